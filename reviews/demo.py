"""Demo data for the quick start: a user per role, a project, a published checklist."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from accounts.permissions import CURATOR_GROUP

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
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        accounts.append(DemoAccount(email, DEMO_PASSWORD, role))
    return accounts
