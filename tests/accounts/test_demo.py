"""The quick start's demo: our own checklist documents, read by our importer into the structure
a curator expects, and a demo project with reviews in every state, built through the services,
idempotent, and complete in a clone that has nothing beside it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db.models import Q

from accounts.models import User
from accounts.permissions import is_curator
from audit.models import Event
from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion
from reviews.demo import DEMO_CHECKLISTS, DEMO_CONTENT, build_demo, import_demo_checklists
from reviews.gate import evaluate_gate
from reviews.models import Finding, Membership, Override, Review, SignOff, Spec

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _outline(version: TemplateVersion) -> dict[str, list[str]]:
    """Top-level section title → its group titles, in order."""
    tops = Section.objects.filter(version=version, parent=None).order_by("position")
    return {
        top.title: list(top.groups.order_by("position").values_list("title", flat=True))
        for top in tops
    }


def _items(version: TemplateVersion, section_title: str) -> list[Item]:
    """Items directly under a top-level section or under its groups."""
    return list(
        Item.objects.filter(version=version)
        .filter(
            Q(section__title=section_title, section__parent=None)
            | Q(section__parent__title=section_title)
        )
        .order_by("position")
    )


def test_demo_documents_live_in_the_repository():
    assert DEMO_CONTENT.is_relative_to(ROOT)
    for name in DEMO_CHECKLISTS.values():
        assert (DEMO_CONTENT / name).is_file()


def test_api_review_imports_as_tiers_with_a_quality_gate(curator):
    version = import_demo_checklists(curator)["api-spec-review"]
    assert version.status == "published"
    assert version.template.title == "API specification review"
    assert "before anyone writes code" in version.template.description
    outline = _outline(version)
    assert list(outline) == [
        "Critical issues (Must Fix)",
        "Important issues (Should Fix)",
        "Improvements (Consider)",
        "Quality gate (Must Fix)",
    ]
    assert outline["Critical issues (Must Fix)"] == ["Contract", "Errors", "Security boundaries"]
    assert outline["Quality gate (Must Fix)"] == []  # the boxes sit in the section itself
    tiers = {
        "Critical issues (Must Fix)": "must",
        "Important issues (Should Fix)": "should",
        "Improvements (Consider)": "could",
        "Quality gate (Must Fix)": "must",
    }
    for section, severity in tiers.items():
        items = _items(version, section)
        assert len(items) >= 7, section
        assert {item.severity for item in items} == {severity}, section
        assert {item.is_gate for item in items} == {section.startswith("Quality gate")}, section
    assert version.items.count() >= 35
    first = version.items.get(text__startswith="Every endpoint is listed")
    assert first.guidance.startswith("One table or one section per resource")
    assert first.rationale.startswith("An endpoint that is only implied")
    paging = version.items.filter(section__title="Lists, paging and filtering (if applicable)")
    assert paging.count() == 3 and all(item.optional for item in paging)
    assert version.items.filter(optional=True).count() == 3


def test_security_review_imports_blockers_as_must_and_fenced_boxes_as_items(curator):
    version = import_demo_checklists(curator)["security-review"]
    outline = _outline(version)
    assert list(outline)[:2] == ["Identity and sessions", "Authorization"]
    assert outline["Identity and sessions"] == ["Blockers", "Recommended"]
    assert outline["Secrets and data protection"] == ["Blockers", "Recommended", "Nice to have"]
    by_group = {
        title: set(version.items.filter(section__title=title).values_list("severity", flat=True))
        for title in ("Blockers", "Recommended", "Nice to have")
    }
    assert by_group == {"Blockers": {"must"}, "Recommended": {"should"}, "Nice to have": {"could"}}
    # The threat-model boxes inside a code fence are items; the YAML example is not.
    walkthrough = _items(version, "Threat model walkthrough")
    assert len(walkthrough) == 5 and walkthrough[0].text.startswith("Who would want to misuse")
    assert not version.items.filter(text__contains="idle_timeout").exists()
    assert not version.items.filter(is_gate=True).exists()
    assert version.items.count() >= 35
    tokens = version.items.get(text__startswith="Tokens are random")
    assert tokens.rationale.startswith("A leaked database")


def test_operational_readiness_imports_tables_with_group_rows(curator):
    version = import_demo_checklists(curator)["operational-readiness"]
    outline = _outline(version)
    assert list(outline) == [
        "Deployment and rollback",
        "Observability",
        "Capacity and performance",
        "Resilience",
        "Data",
        "Support and ownership",
    ]
    assert outline["Deployment and rollback"] == ["Critical: before the first deploy"]
    critical = version.items.filter(section__title__startswith="Critical:")
    assert critical.count() == 8 and set(critical.values_list("severity", flat=True)) == {"must"}
    assert (
        version.items.exclude(section__title__startswith="Critical:")
        .exclude(severity="should")
        .count()
        == 0
    )
    rollback = version.items.get(text__startswith="A release can be rolled back")
    assert rollback.guidance.splitlines() == [
        "Previous artefact kept; database changes are backward compatible for one release",
        "Evidence: Rollback drill notes",
    ]
    assert rollback.rationale == "The fastest fix for a bad release is the previous one"
    # A row outside the group (no "- ") belongs to the section again.
    config = version.items.get(text__startswith="Configuration is read from the environment")
    assert config.section.title == "Deployment and rollback" and config.section.parent is None
    assert version.items.filter(optional=True).count() == 4
    assert version.items.count() >= 25


def test_demo_builds_every_review_state_through_the_services():
    build_demo()
    reviews = {r.spec.title: r for r in Review.objects.select_related("spec")}
    states = {title: review.state for title, review in reviews.items()}
    assert states == {
        "Payments API v2": "in_review",
        "Notification preferences": "draft",
        "Search indexing pipeline": "changes_requested",
        "Audit log export": "approved",
    }
    # Roles: a member per role (two reviewers), a curator, a superuser.
    roles = dict(Membership.objects.values_list("user__email", "role"))
    assert roles == {
        "author@example.com": "author",
        "reviewer@example.com": "reviewer",
        "reviewer2@example.com": "reviewer",
        "lead@example.com": "lead",
        "viewer@example.com": "viewer",
    }
    assert Membership.objects.get(user__email="lead@example.com").can_override
    assert is_curator(User.objects.get(email="curator@example.com"))
    assert User.objects.get(email="admin@example.com").is_superuser

    # In review: two reviewers, partial answers, open findings, a stale sign-off after r2.
    payments = reviews["Payments API v2"]
    assert set(payments.assignments.values_list("user__email", flat=True)) == {
        "reviewer@example.com",
        "reviewer2@example.com",
    }
    answered_by = set(
        payments.responses.exclude(verdict="unanswered").values_list(
            "answered_by__email", flat=True
        )
    )
    assert answered_by == {"reviewer@example.com", "reviewer2@example.com"}
    assert 0 < payments.responses.exclude(verdict="unanswered").count() < payments.responses.count()
    assert payments.responses.filter(needs_recheck=True).exists()  # fails sent back by r2
    assert payments.responses.filter(verdict="fail").count() == 1  # ... and one confirmed
    revisions = dict(Spec.objects.values_list("title", "revision_label"))
    assert revisions["Payments API v2"] == revisions["Notification preferences"] == "r2"
    assert Spec.objects.get(title="Payments API v2").revisions.count() == 2
    assert set(payments.findings.values_list("severity", "status")) == {
        ("critical", "open"),
        ("strength", "open"),
    }
    stale = SignOff.objects.get(review=payments)
    assert stale.stale and "r2" in stale.stale_reason

    # Changes requested: a lead's request-changes sign-off and an open critical finding.
    search = reviews["Search indexing pipeline"]
    assert search.signoffs.get().decision == "request_changes"
    assert search.findings.filter(severity="critical", status="open").exists()
    assert search.responses.filter(verdict="fail").count() == 2

    # Approved: everything answered, a resolved finding, two current reviewer sign-offs and an
    # override that the gate shows as overridden (never as satisfied).
    audit = reviews["Audit log export"]
    assert not audit.responses.filter(verdict="unanswered").exists()
    assert audit.findings.get().status == "resolved"
    assert audit.signoffs.filter(role="reviewer", stale=False).count() == 2
    override = Override.objects.get(review=audit)
    assert override.rule == "gate_items" and override.is_active(audit)
    lead = User.objects.get(email="lead@example.com")
    gate = {rule.rule: rule.status for rule in evaluate_gate(audit, lead).rules}
    assert gate["gate_items"] == "overridden"
    assert set(gate.values()) == {"overridden", "satisfied"}

    # Every step is in the audit trail.
    verbs = set(Event.objects.values_list("verb", flat=True))
    for verb in (
        "checklist.imported",
        "review.created",
        "review.submit",
        "response.answered",
        "finding.raised",
        "finding.resolved",
        "signoff.created",
        "spec.revision_posted",
        "review.request_changes",
        "override.granted",
        "review.approve",
    ):
        assert verb in verbs, verb


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            ChecklistTemplate,
            TemplateVersion,
            Item,
            Spec,
            Review,
            Finding,
            SignOff,
            Override,
            Membership,
            Event,
        )
    }


def test_demo_is_idempotent():
    build_demo()
    first = _counts()
    build_demo()
    assert _counts() == first
    assert first["ChecklistTemplate"] == 3 and first["Review"] == 4


def test_quickstart_without_serving_creates_a_user_per_role(capsys):
    call_command("quickstart", "--no-serve")
    out = capsys.readouterr().out
    for email in ("curator", "author", "reviewer", "reviewer2", "lead", "viewer", "admin"):
        assert f"{email}@example.com" in out
    assert "Payments API v2 (r2): in review" in out
    assert "Audit log export (r1): approved, 39 of 39 answered" in out
    assert is_curator(User.objects.get(email="curator@example.com"))


def test_demo_refuses_production(settings):
    settings.SPECGATE_ENV = "production"
    with pytest.raises(ImproperlyConfigured):
        build_demo()
    assert not User.objects.exists()


def test_demo_user_can_sign_in(client):
    build_demo()
    response = client.post(
        "/accounts/login/", {"login": "reviewer2@example.com", "password": "specgate-demo"}
    )
    assert response.status_code == 302


# --- a clone with nothing beside it --------------------------------------------------------

REPORT = """
import json
from checklists.models import ChecklistTemplate, Item
from reviews.models import Review
print("REPORT " + json.dumps({
    "templates": sorted(ChecklistTemplate.objects.values_list("slug", flat=True)),
    "items": Item.objects.count(),
    "states": sorted(Review.objects.values_list("state", flat=True)),
}))
"""


def _clone(target: Path) -> None:
    """The repository's files as git knows them (tracked, and new files not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.mark.django_db(transaction=False)
def test_a_clone_in_an_empty_folder_gets_the_full_demo(tmp_path):
    clone = tmp_path / "clone"
    _clone(clone)
    assert not (tmp_path / "shared").exists()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }

    def manage(*args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = manage("quickstart", "--no-serve")
    assert "Demo data is ready" in out
    report = json.loads(manage("shell", "-c", REPORT).split("REPORT ", 1)[1])
    assert report["templates"] == sorted(DEMO_CHECKLISTS)
    assert report["items"] >= 100
    assert report["states"] == ["approved", "changes_requested", "draft", "in_review"]
    manage("quickstart", "--no-serve")  # twice: nothing is duplicated
    again = json.loads(manage("shell", "-c", REPORT).split("REPORT ", 1)[1])
    assert again == report
