"""Demo data for the quick start, from the project's own content (``reviews/demo_content/``).

A user per role, three published checklists imported from our Markdown documents through the
import service, and a project whose specs have reviews in every open and closed state: a draft,
a review in progress with two reviewers and partial answers (try a conflicting edit), one with
changes requested and one approved under a lead's override. Everything is written through the
services, so the audit trail, the notifications and the gate are the real ones. Idempotent: a
second run adds nothing (users and memberships are kept, each spec is built once, an unchanged
checklist document imports as the version it already is).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts.permissions import CURATOR_GROUP
from checklists.models import Item, TemplateVersion
from checklists.services import checklist_import

logger = logging.getLogger("specgate.demo")

DEMO_PASSWORD = "specgate-demo"
DEMO_USERS = [
    ("curator@example.com", "Casey Curator", "curator"),
    ("author@example.com", "Ada Author", "author"),
    ("reviewer@example.com", "Rita Reviewer", "reviewer"),
    ("reviewer2@example.com", "Rob Reviewer", "reviewer"),
    ("lead@example.com", "Lee Lead", "lead"),
    ("viewer@example.com", "Val Viewer", "viewer"),
    ("admin@example.com", "Sam Superuser", "superuser"),
]
DEMO_MEMBERS = [
    ("author@example.com", "author", False),
    ("reviewer@example.com", "reviewer", False),
    ("reviewer2@example.com", "reviewer", False),
    ("lead@example.com", "lead", True),
    ("viewer@example.com", "viewer", False),
]
DEMO_PROJECT = "demo"
DEMO_CONTENT = Path(__file__).resolve().parent / "demo_content"
# slug → document in DEMO_CONTENT (part of the repository: the app reads nothing outside it).
DEMO_CHECKLISTS = {
    "api-spec-review": "api-spec-review.md",
    "security-review": "security-review.md",
    "operational-readiness": "operational-readiness.md",
}


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
    accounts = _demo_users()
    User = get_user_model()
    versions = import_demo_checklists(User.objects.get(email="curator@example.com"))
    build_demo_project(versions)
    return accounts


def _demo_users() -> list[DemoAccount]:
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
    return accounts


def import_demo_checklists(curator) -> dict[str, TemplateVersion]:
    """Publish our checklist documents through the import service; slug → published version.
    An unchanged document imports as the version it already is (content hash)."""
    versions = {}
    for slug, name in DEMO_CHECKLISTS.items():
        result = checklist_import(
            actor=curator,
            data=(DEMO_CONTENT / name).read_bytes(),
            source_name=name,
            slug=slug,
            publish=True,
            changelog="The quick start's demo checklist.",
        )
        versions[slug] = result.version
    return versions


# --- the demo project ----------------------------------------------------------------------


@dataclass
class Cast:
    admin: object
    author: object
    reviewer: object
    reviewer2: object
    lead: object
    versions: dict[str, TemplateVersion]


def build_demo_project(versions: dict[str, TemplateVersion]):
    """The project "demo" with a member per role and four specs, each built once."""
    from reviews.models import Project
    from reviews.services import membership_set, project_create

    User = get_user_model()
    by_email = {u.email: u for u in User.objects.filter(email__in=[e for e, _, _ in DEMO_USERS])}
    cast = Cast(
        admin=by_email["admin@example.com"],
        author=by_email["author@example.com"],
        reviewer=by_email["reviewer@example.com"],
        reviewer2=by_email["reviewer2@example.com"],
        lead=by_email["lead@example.com"],
        versions=versions,
    )
    project = Project.objects.filter(slug=DEMO_PROJECT).first()
    if project is None:
        project = project_create(
            actor=cast.admin,
            slug=DEMO_PROJECT,
            name="Demo project",
            description="A sandbox with a member per role. Sign in as any demo user.",
        )
    for email, role, can_override in DEMO_MEMBERS:
        membership_set(
            actor=cast.admin, project=project, email=email, role=role, can_override=can_override
        )
    for title, link, description, build in SPECS:
        if project.specs.filter(title=title).exists():
            continue
        spec = _spec(cast, project, title, link, description)
        build(cast, spec)
    return project


def _spec(cast: Cast, project, title: str, link: str, description: str):
    from reviews.services import spec_create

    return spec_create(
        actor=cast.author, project=project, title=title, link=link, description=description
    )


def _items(version: TemplateVersion, section: str | None = None) -> list[Item]:
    """The version's items in checklist order; only those under ``section`` (a top-level
    section or group title) when given."""
    items = Item.objects.filter(version=version).select_related("section__parent")
    if section is not None:
        items = [
            item
            for item in items
            if section in (item.section.title, getattr(item.section.parent, "title", None))
        ]
    return sorted(items, key=lambda item: item.position)


def _item(version: TemplateVersion, text_start: str) -> Item:
    return Item.objects.get(version=version, text__startswith=text_start)


def _answer(actor, review, items: list[Item], notes: dict[str, tuple[str, str]] | None = None):
    """Answer ``items``: pass, except those whose text starts with a key of ``notes``
    (verdict, note)."""
    from reviews.services import AnswerInput, response_save_batch

    entries = []
    for item in items:
        verdict, note = next(
            (answer for start, answer in (notes or {}).items() if item.text.startswith(start)),
            ("pass", ""),
        )
        entries.append(AnswerInput(item.pk, verdict, note))
    response_save_batch(actor=actor, review=review, entries=entries)


def _due(days: int):
    return timezone.localdate() + timedelta(days=days)


def _payments_in_review(cast: Cast, spec) -> None:
    """In review, two reviewers, partial answers, open findings, a sign-off made stale by the
    spec's second revision, and failed answers sent back to re-check."""
    from reviews.services import (
        finding_raise,
        response_save,
        review_create,
        review_submit,
        signoff_create,
        spec_post_revision,
    )

    api, security = cast.versions["api-spec-review"], cast.versions["security-review"]
    review = review_create(
        actor=cast.author,
        spec=spec,
        template_version_ids=[api.pk, security.pk],
        reviewers=[cast.reviewer.email, cast.reviewer2.email],
        due_date=_due(5),
    )
    review_submit(actor=cast.author, review=review, comment="Ready for review: API and security.")
    _answer(
        cast.reviewer,
        review,
        _items(api, "Contract") + _items(api, "Errors"),
        {
            "Time values": ("fail", "Refund timestamps are local times without a zone (§3.2)."),
            "The spec says which errors": (
                "fail",
                "Only 5xx is covered; the 409 for a duplicate refund is not mentioned.",
            ),
        },
    )
    _answer(
        cast.reviewer2,
        review,
        _items(security, "Identity and sessions"),
        {
            "Tokens are random": (
                "fail",
                "Merchant API keys are stored in clear in the keys table (§5.1).",
            ),
            "Administrative actions": (
                "na",
                "The payments API has no administrative actions; refunds above the limit go "
                "through the back office, reviewed separately.",
            ),
        },
    )
    finding_raise(
        actor=cast.reviewer2,
        review=review,
        severity="critical",
        title="A retried refund is paid out twice",
        location="§4.2 Refund flow",
        impact="A client that times out and retries POST /refunds refunds the customer twice.",
        recommendation="Require an Idempotency-Key header on POST /refunds and store keys for "
        "24 hours.",
        verification="Replay the same refund request twice; expect one refund and the same "
        "response body.",
        item_id=_item(api, "Creating operations accept an idempotency key").pk,
    )
    finding_raise(
        actor=cast.reviewer,
        review=review,
        severity="strength",
        title="Clear sequence diagrams for capture and refund",
        location="§2 Flows",
    )
    signoff_create(
        actor=cast.reviewer2,
        review=review,
        comment="Identity and sessions done; the API sections are Rita's.",
    )
    # The author answers the review with a second revision: the sign-off above goes stale and
    # the failed answers go back to re-check.
    spec_post_revision(
        actor=cast.author,
        spec=spec,
        label="r2",
        link="https://docs.example.com/specs/payments-api-v2?rev=2",
        note="Timestamps in UTC (RFC 3339); 409 documented for duplicate refunds.",
    )
    response_save(
        actor=cast.reviewer,
        review=review,
        item_id=_item(api, "Time values").pk,
        verdict="pass",
        note="r2: every timestamp is RFC 3339 in UTC.",
    )
    response_save(
        actor=cast.reviewer2,
        review=review,
        item_id=_item(security, "Tokens are random").pk,
        verdict="fail",
        note="Still open in r2: merchant API keys are stored in clear (§5.1).",
    )


def _notifications_draft(cast: Cast, spec) -> None:
    """A draft on the spec's second revision: created with its reviewer, not submitted yet."""
    from reviews.services import review_create, spec_post_revision

    spec_post_revision(
        actor=cast.author,
        spec=spec,
        label="r2",
        note="Adds the daily digest and the unsubscribe link every e-mail must carry.",
    )
    review_create(
        actor=cast.author,
        spec=spec,
        template_version_ids=[cast.versions["operational-readiness"].pk],
        reviewers=[cast.reviewer.email],
        due_date=_due(14),
    )


def _search_changes_requested(cast: Cast, spec) -> None:
    """Answered in part, a critical finding, and the lead requests changes."""
    from reviews.services import finding_raise, review_create, review_request_changes, review_submit

    api, ops = cast.versions["api-spec-review"], cast.versions["operational-readiness"]
    review = review_create(
        actor=cast.author,
        spec=spec,
        template_version_ids=[api.pk, ops.pk],
        reviewers=[cast.reviewer.email, cast.reviewer2.email],
        due_date=_due(2),
    )
    review_submit(actor=cast.author, review=review, comment="Please review before the freeze.")
    _answer(
        cast.reviewer,
        review,
        _items(ops, "Deployment and rollback") + _items(ops, "Resilience"),
        {
            "Schema migrations run without downtime": (
                "fail",
                "The new column has a default on a 40 M-row table: a long lock on PostgreSQL 10.",
            ),
            "Feature flags": ("na", ""),
            "The service runs in at least two instances": ("na", ""),
            "Background jobs are idempotent": (
                "fail",
                "A reindex job that restarts half way indexes the first half twice.",
            ),
        },
    )
    _answer(cast.reviewer2, review, _items(api, "Contract"))
    finding_raise(
        actor=cast.reviewer,
        review=review,
        severity="critical",
        title="Reindex migration locks the documents table",
        location="§6 Rollout",
        impact="Search and document writes stop for the length of the migration (est. 20 min).",
        recommendation="Expand/contract: add the column without a default, backfill in batches, "
        "then add the constraint.",
        verification="Run the migration on a production-sized copy; no lock longer than 1 s.",
        item_id=_item(ops, "Schema migrations run without downtime").pk,
    )
    finding_raise(
        actor=cast.reviewer2,
        review=review,
        severity="suggestion",
        title="Name the index alias scheme",
        location="§4 Index layout",
        recommendation="Document the alias swap so operators can roll back an index.",
    )
    review_request_changes(
        actor=cast.lead,
        review=review,
        comment="Please rework the migration plan (expand/contract) and make the reindex job "
        "resumable; the API part looks good.",
    )


def _audit_export_approved(cast: Cast, spec) -> None:
    """Every item answered, a finding resolved by the author, two current sign-offs, an
    override of the gate-items rule with its justification, and the lead's approval."""
    from reviews.services import (
        finding_raise,
        finding_resolve,
        override_grant,
        review_approve,
        review_create,
        review_submit,
        signoff_create,
    )

    api = cast.versions["api-spec-review"]
    review = review_create(
        actor=cast.author,
        spec=spec,
        template_version_ids=[api.pk],
        reviewers=[cast.reviewer.email, cast.reviewer2.email],
        due_date=_due(-3),
    )
    review_submit(actor=cast.author, review=review, comment="Small API, one resource.")
    _answer(
        cast.reviewer,
        review,
        _items(api, "Critical issues (Must Fix)") + _items(api, "Important issues (Should Fix)"),
        {
            "Lists are paginated": ("na", ""),
            "The order of a list": ("na", ""),
            "Filters and sort keys": ("na", ""),
            "Concurrent updates are detected": (
                "na",
                "Exports are created and read, never updated.",
            ),
        },
    )
    _answer(
        cast.reviewer2,
        review,
        _items(api, "Improvements (Consider)") + _items(api, "Quality gate (Must Fix)"),
        {
            "The spec links to a sandbox": ("fail", "No sandbox yet; planned for milestone 2."),
            "A consumer of the API": (
                "fail",
                "Compliance, the only consumer, has not read it yet; booked for next week.",
            ),
        },
    )
    finding = finding_raise(
        actor=cast.reviewer,
        review=review,
        severity="important",
        title="Export files carry no checksum",
        location="§3 Export format",
        impact="A truncated download looks like a complete export.",
        recommendation="Add a SHA-256 of each file to the manifest.",
        verification="Corrupt one byte of a file; the importer must refuse it.",
    )
    finding_resolve(
        actor=cast.author, finding=finding, note="The manifest now lists a SHA-256 per file (§3.4)."
    )
    signoff_create(actor=cast.reviewer, review=review, comment="All sections answered.")
    signoff_create(actor=cast.reviewer2, review=review, comment="Gate reviewed.")
    override_grant(
        actor=cast.lead,
        review=review,
        rule="gate_items",
        justification="Compliance reads the spec alongside milestone 1, which builds the "
        "internal export only; the partner-facing endpoint waits for their read-through.",
        expires_at=timezone.now() + timedelta(days=30),
    )
    review_approve(
        actor=cast.lead,
        review=review,
        comment="Ready for development; the override covers the pending consumer read-through.",
    )


# (title, link, description, builder): each spec and its review are built once.
SPECS = [
    (
        "Payments API v2",
        "https://docs.example.com/specs/payments-api-v2",
        "Idempotent payment creation, refunds and webhooks for merchants.",
        _payments_in_review,
    ),
    (
        "Notification preferences",
        "https://docs.example.com/specs/notification-preferences",
        "Per-user e-mail and push settings, with a digest mode.",
        _notifications_draft,
    ),
    (
        "Search indexing pipeline",
        "https://docs.example.com/specs/search-indexing",
        "Move document indexing to a queue-backed pipeline with zero-downtime reindexing.",
        _search_changes_requested,
    ),
    (
        "Audit log export",
        "https://docs.example.com/specs/audit-log-export",
        "A signed, checksummed export of the audit log for the compliance team.",
        _audit_export_approved,
    ),
]


def demo_summary() -> list[str]:
    """One line per demo review, for the quick start's output."""
    from reviews.models import Review

    reviews = (
        Review.objects.filter(spec__project__slug=DEMO_PROJECT)
        .select_related("spec")
        .prefetch_related("assignments__user")
        .order_by("pk")
    )
    lines = []
    for review in reviews:
        reviewers = ", ".join(sorted(a.user.email for a in review.assignments.all()))
        answered = review.answers_pass + review.answers_fail + review.answers_na
        total = answered + review.answers_unanswered
        lines.append(
            f"#{review.pk} {review.spec.title} ({review.spec.revision_label}): "
            f"{review.get_state_display().lower()}, {answered} of {total} answered; "
            f"reviewers {reviewers or 'none'}"
        )
    return lines
