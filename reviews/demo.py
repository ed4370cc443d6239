"""Demo data for the quick start: a user per role, a project, a published checklist."""

import logging
from dataclasses import dataclass
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from accounts.permissions import CURATOR_GROUP
from checklists.services import checklist_import
from config.errors import DomainError

logger = logging.getLogger("specgate.demo")

DEMO_PASSWORD = "specgate-demo"
DEMO_USERS = [
    ("curator@example.com", "Casey Curator", "curator"),
    ("author@example.com", "Ada Author", "author"),
    ("reviewer@example.com", "Rita Reviewer", "reviewer"),
    ("lead@example.com", "Lee Lead", "lead"),
    ("viewer@example.com", "Val Viewer", "viewer"),
    ("admin@example.com", "Sam Superuser", "superuser"),
]


@dataclass
class DemoAccount:
    email: str
    password: str
    role: str


def refuse_in_production() -> None:
    if getattr(settings, "SPECGATE_ENV", "") == "production":
        raise ImproperlyConfigured(
            "Refusing to create demo users: production settings are active "
            f"({settings.SETTINGS_MODULE})."
        )


@transaction.atomic
def build_demo() -> list[DemoAccount]:
    refuse_in_production()
    User = get_user_model()
    curators, _ = Group.objects.get_or_create(name=CURATOR_GROUP)
    accounts = []
    for email, name, role in DEMO_USERS:
        user, created = User.objects.get_or_create(email=email, defaults={"display_name": name})
        if created:
            user.set_password(DEMO_PASSWORD)
            if role == "superuser":
                user.is_staff = user.is_superuser = True
            user.save()
        if role == "curator":
            user.groups.add(curators)
            if not user.is_staff:  # curators work in the admin
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        accounts.append(DemoAccount(email, DEMO_PASSWORD, role))
    import_seed_checklists(User.objects.get(email="curator@example.com"))
    build_demo_project()
    return accounts


def seeds_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "seeds"


def import_seed_checklists(curator) -> list:
    """Publish the checklist documents in ../shared/seeds/ (skipped quietly when missing)."""
    folder = seeds_dir()
    if not folder.is_dir():
        return []
    results = []
    for path in sorted(folder.glob("*.txt")):
        try:
            results.append(
                checklist_import(
                    actor=curator,
                    data=path.read_bytes(),
                    source_name=path.name,
                    publish=True,
                    changelog="Imported from the seed documents.",
                )
            )
        except DomainError as exc:  # a bad seed must not stop the quick start
            logger.warning("demo: seed checklist %s not imported: %s", path.name, exc)
    return results


DEMO_MEMBERS = [
    ("author@example.com", "author", False),
    ("reviewer@example.com", "reviewer", False),
    ("lead@example.com", "lead", True),
    ("viewer@example.com", "viewer", False),
]


def build_demo_project():
    """A project "demo" with a member per role, a spec and, when published checklists exist,
    a review over them (in review, assigned to the demo reviewer). Idempotent; every write goes
    through the services."""
    from checklists.models import TemplateVersion
    from reviews.models import Project
    from reviews.services import (
        membership_set,
        project_create,
        review_create,
        review_submit,
        spec_create,
    )

    User = get_user_model()
    admin = User.objects.get(email="admin@example.com")
    project = Project.objects.filter(slug="demo").first()
    if project is None:
        project = project_create(
            actor=admin,
            slug="demo",
            name="Demo project",
            description="A sandbox with a member per role. Sign in as any demo user.",
        )
    for email, role, can_override in DEMO_MEMBERS:
        membership_set(
            actor=admin, project=project, email=email, role=role, can_override=can_override
        )
    author = User.objects.get(email="author@example.com")
    spec = project.specs.filter(title="Payments API v2").first()
    if spec is None:
        spec = spec_create(
            actor=author,
            project=project,
            title="Payments API v2",
            link="https://docs.example.com/specs/payments-api-v2",
            description="Idempotent payment creation, refunds and webhooks for merchants.",
        )
    if spec.reviews.exists():
        return
    latest = {}
    for version in TemplateVersion.objects.filter(status="published").order_by("number"):
        latest[version.template_id] = version.pk
    if not latest:
        return
    review = review_create(
        actor=author,
        spec=spec,
        template_version_ids=list(latest.values()),
        reviewers=["reviewer@example.com"],
    )
    review_submit(actor=author, review=review, comment="Ready for review.")
