"""The endpoints beyond the contract table: members, settings, revisions, overrides, transitions,
migration, findings editing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.models import Membership
from reviews.services import finding_raise, review_submit, signoff_create
from tests.api.conftest import assert_error
from tests.reviews.factories import make_version

pytestmark = pytest.mark.django_db


def test_members_list_change_and_remove(world, as_user):
    lead = as_user(world.lead)
    url = f"/api/v1/projects/{world.project.slug}/members/"
    members = lead.get(url).json()
    assert members["count"] == 6 and {"user", "role", "can_override"} <= set(members["results"][0])
    r = lead.post(url, {"user": world.viewer.email, "role": "reviewer"})
    assert r.status_code == 200 and r.json()["role"] == "reviewer"
    assert lead.delete(f"{url}{world.viewer.email}/").status_code == 204
    assert not Membership.objects.filter(user=world.viewer, project=world.project).exists()
    assert_error(lead.delete(f"{url}{world.viewer.email}/"), 404)
    assert_error(lead.delete(f"{url}nobody@example.com/"), 404)
    assert_error(lead.post(url, {"user": "nobody@example.com", "role": "viewer"}), 400)
    assert_error(lead.post(url, {"user": world.viewer.email, "role": "boss"}), 400)


def test_project_settings_by_leads(world, as_user):
    r = as_user(world.lead).patch(
        f"/api/v1/projects/{world.project.slug}/",
        {"required_signoffs": 2, "important_findings_block": True},
    )
    assert r.status_code == 200
    assert r.json()["required_signoffs"] == 2 and r.json()["important_findings_block"] is True
    assert_error(
        as_user(world.lead).patch(
            f"/api/v1/projects/{world.project.slug}/", {"required_signoffs": 0}
        ),
        400,
    )


def test_specs_and_revisions(world, as_user):
    author = as_user(world.author)
    spec = author.get(f"/api/v1/specs/{world.spec.pk}/").json()
    assert spec["project"] == world.project.slug and spec["author"] == world.author.email
    assert author.get(f"/api/v1/specs/?project={world.project.slug}").json()["count"] == 1
    r = author.post(f"/api/v1/specs/{world.spec.pk}/revisions/", {"label": "r2"})
    assert r.status_code == 201 and r.json()["number"] == 2
    again = author.post(f"/api/v1/specs/{world.spec.pk}/revisions/", {"label": "r2"})
    assert again.status_code == 200 and again.json()["number"] == 2
    revisions = author.get(f"/api/v1/specs/{world.spec.pk}/revisions/").json()
    assert [x["label"] for x in revisions["results"]] == [world.spec.revision_label, "r2"]
    error = assert_error(
        author.post(
            "/api/v1/specs/", {"project": world.project.slug, "title": "T", "link": "nope"}
        ),
        400,
    )
    assert "link" in error["details"]


def test_transitions_and_overrides(world, as_user):
    rid = world.review.pk
    author, lead = as_user(world.author), as_user(world.lead)
    detail = lead.get(f"/api/v1/reviews/{rid}/").json()
    assert detail["actions"]["approve"]  # reasons why not
    assert author.post(f"/api/v1/reviews/{rid}/submit/").json()["state"] == "in_review"
    r = lead.post(f"/api/v1/reviews/{rid}/request-changes/", {"comment": "more detail"})
    assert r.status_code == 200 and r.json()["state"] == "changes_requested"
    assert author.post(f"/api/v1/reviews/{rid}/submit/").json()["state"] == "in_review"

    error = assert_error(lead.post(f"/api/v1/reviews/{rid}/reopen/", {"reason": "x"}), 409)
    assert error["details"]["reasons"]

    # the lead (with the override permission) overrides the gate-items and must-items rules
    for rule in ("gate_items", "must_items", "signoffs"):
        r = lead.post(
            f"/api/v1/reviews/{rid}/overrides/",
            {
                "rule": rule,
                "justification": "accepted risk",
                "expires_at": (timezone.now() + timedelta(days=1)).isoformat(),
            },
        )
        assert r.status_code == 201, r.content
        assert r.json()["active"] is True
    assert_error(
        lead.post(
            f"/api/v1/reviews/{rid}/overrides/", {"rule": "not_author", "justification": "x"}
        ),
        400,
    )
    assert_error(
        as_user(world.lead2).post(
            f"/api/v1/reviews/{rid}/overrides/", {"rule": "signoffs", "justification": "x"}
        ),
        403,
    )
    assert lead.get(f"/api/v1/reviews/{rid}/overrides/").json()["count"] == 3
    gate = lead.get(f"/api/v1/reviews/{rid}/gate/").json()
    assert gate["ready"] is True
    assert {r["rule"]: r["status"] for r in gate["rules"]}["gate_items"] == "overridden"
    assert lead.post(f"/api/v1/reviews/{rid}/approve/").json()["state"] == "approved"
    assert_error(lead.post(f"/api/v1/reviews/{rid}/reopen/", {}), 400)
    r = lead.post(f"/api/v1/reviews/{rid}/reopen/", {"reason": "missed a case"})
    assert r.status_code == 200 and r.json()["state"] == "in_review"
    r = author.post(f"/api/v1/reviews/{rid}/withdraw/", {"reason": "replaced"})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"


def test_migrate_to_a_new_version(world, as_user):
    review_submit(actor=world.author, review=world.review)
    signoff_create(actor=world.reviewer, review=world.review)
    v2 = make_version(slug=world.version.template.slug, number=2, template=world.version.template)
    lead = as_user(world.lead)
    r = lead.post(f"/api/v1/reviews/{world.review.pk}/migrate/", {"to_version": v2.pk})
    assert r.status_code == 200, r.content
    assert [v["id"] for v in r.json()["template_versions"]] == [v2.pk]
    assert "migration" in r.json()
    assert lead.get(f"/api/v1/reviews/{world.review.pk}/signoffs/").json()["results"][0]["stale"]
    assert_error(
        lead.post(f"/api/v1/reviews/{world.review.pk}/migrate/", {"to_version": 999999}), 400
    )


def test_findings_edit_with_versions_and_reopen(world, as_user):
    review_submit(actor=world.author, review=world.review)
    finding = finding_raise(
        actor=world.reviewer, review=world.review, severity="important", title="Vague"
    )
    reviewer = as_user(world.reviewer)
    url = f"/api/v1/reviews/{world.review.pk}/findings/{finding.pk}/"
    r = reviewer.patch(url, {"title": "Vague error model", "version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2 and r["ETag"] == '"2"'
    error = assert_error(reviewer.patch(url, {"title": "Other", "version": 1}), 409)
    assert error["details"]["current"]["title"] == "Vague error model"
    assert_error(reviewer.patch(url, {"title": "Other"}, HTTP_IF_MATCH='"1"'), 412)
    # Reviewers raise findings; the spec's author or a lead resolves them (DESIGN.md).
    assert_error(reviewer.post(f"{url}resolve/", {"note": "not needed"}), 403)
    author = as_user(world.author)
    r = author.post(f"{url}resolve/", {"note": "not needed", "status": "wont_fix"})
    assert r.status_code == 200 and r.json()["status"] == "wont_fix"
    assert_error(author.post(f"{url}resolve/", {"note": "again"}), 409)
    r = reviewer.post(f"{url}reopen/", {"note": "needed after all"})
    assert r.status_code == 200 and r.json()["status"] == "open"
    listed = reviewer.get(f"/api/v1/reviews/{world.review.pk}/findings/?status=open").json()
    assert [f["id"] for f in listed["results"]] == [finding.pk]
    assert (
        reviewer.get(f"/api/v1/reviews/{world.review.pk}/findings/?status=resolved").json()["count"]
        == 0
    )
