"""The calls integrations rely on (DESIGN.md, "API contract"), driven end to end over HTTP with
bearer tokens: paths, fields and status codes exactly."""

import pytest

from reviews.models import Review
from tests.accounts.factories import UserFactory
from tests.api.conftest import SIMPLE_CHECKLIST, assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {
        "admin": UserFactory(is_staff=True, is_superuser=True, email="admin@example.com"),
        "curator": UserFactory(curator=True, email="cur@example.com"),
        "lead": UserFactory(email="lead@example.com"),
        "author": UserFactory(email="author@example.com"),
        "reviewer": UserFactory(email="reviewer@example.com"),
    }


def test_a_whole_review_over_the_api(people, as_user, django_capture_on_commit_callbacks):
    admin, curator = as_user(people["admin"]), as_user(people["curator"])
    lead, author, reviewer = (as_user(people[n]) for n in ("lead", "author", "reviewer"))

    # import a checklist (multipart file) and publish it at once
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("api.md", SIMPLE_CHECKLIST.encode(), "text/markdown")
    r = curator.post(
        "/api/v1/checklists/import/",
        {"file": upload, "slug": "api-review", "publish": "true"},
        format="multipart",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["slug"] == "api-review"
    assert set(body["version"]) >= {"id", "number", "status"}
    assert body["version"]["status"] == "published"
    version_id = body["version"]["id"]

    # the same document again: 200 with the existing version
    upload = SimpleUploadedFile("api.md", SIMPLE_CHECKLIST.encode(), "text/markdown")
    r = curator.post(
        "/api/v1/checklists/import/", {"file": upload, "slug": "api-review"}, format="multipart"
    )
    assert r.status_code == 200, r.content
    assert r.json()["version"]["id"] == version_id

    r = lead.get("/api/v1/checklists/api-review/")
    assert r.status_code == 200
    assert r.json()["slug"] == "api-review" and r.json()["title"]
    (listed,) = r.json()["versions"]
    assert (listed["id"], listed["number"], listed["status"]) == (version_id, 1, "published")

    # project and members
    r = admin.post("/api/v1/projects/", {"slug": "payments", "name": "Payments"})
    assert r.status_code == 201, r.content
    assert r.json()["slug"] == "payments" and r.json()["name"] == "Payments"
    r = admin.post(
        "/api/v1/projects/payments/members/", {"user": "lead@example.com", "role": "lead"}
    )
    assert r.status_code == 201, r.content
    for email, role in [("author@example.com", "author"), ("reviewer@example.com", "reviewer")]:
        r = lead.post("/api/v1/projects/payments/members/", {"user": email, "role": role})
        assert r.status_code == 201, r.content
        assert r.json()["user"] == email and r.json()["role"] == role

    # spec and revision
    r = author.post(
        "/api/v1/specs/",
        {
            "project": "payments",
            "title": "Refunds",
            "link": "https://docs.example.com/refunds",
            "description": "How refunds work.",
        },
    )
    assert r.status_code == 201, r.content
    spec_id = r.json()["id"]
    assert isinstance(spec_id, int)

    # review
    r = author.post(
        "/api/v1/reviews/",
        {"spec": spec_id, "template_versions": [version_id], "reviewers": ["reviewer@example.com"]},
    )
    assert r.status_code == 201, r.content
    review = r.json()
    assert review["state"] == "draft" and isinstance(review["id"], int)
    rid = review["id"]
    r = author.post(f"/api/v1/reviews/{rid}/submit/", {"comment": "please review"})
    assert r.status_code == 200 and r.json()["state"] == "in_review"

    r = reviewer.get(f"/api/v1/reviews/{rid}/")
    assert r.status_code == 200
    detail = r.json()
    assert detail["id"] == rid and detail["state"] == "in_review" and detail["spec"] == spec_id
    assert {"total", "answered", "pass", "fail", "na"} <= set(detail["progress"])
    assert detail["progress"]["total"] == 3 and detail["progress"]["answered"] == 0

    # answers: one by one with the version, then the rest as a batch
    r = reviewer.get(f"/api/v1/reviews/{rid}/responses/")
    assert r.status_code == 200
    page = r.json()
    assert set(page) == {"count", "next", "previous", "results"} and page["count"] == 3
    first = page["results"][0]
    assert set(first["item"]) >= {"id", "key", "text", "severity", "is_gate", "optional"}
    assert {"verdict", "note", "version"} <= set(first)
    gate_item = next(a for a in page["results"] if a["item"]["is_gate"])
    url = f"/api/v1/reviews/{rid}/responses/{gate_item['item']['id']}/"
    r = reviewer.patch(url, {"verdict": "pass", "note": "", "version": gate_item["version"]})
    assert r.status_code == 200, r.content
    assert r.json()["verdict"] == "pass" and r.json()["version"] == gate_item["version"] + 1
    assert r.headers["ETag"] == f'"{gate_item["version"] + 1}"'
    # stale version → 409 with the current answer
    r = reviewer.patch(url, {"verdict": "fail", "note": "x", "version": gate_item["version"]})
    error = assert_error(r, 409)
    assert error["details"]["current"]["verdict"] == "pass"
    assert error["details"]["current"]["version"] == gate_item["version"] + 1

    others = [a for a in page["results"] if a["item"]["id"] != gate_item["item"]["id"]]
    r = reviewer.patch(
        f"/api/v1/reviews/{rid}/responses/",
        {
            "responses": [
                {"item": a["item"]["id"], "verdict": "pass", "note": "", "version": a["version"]}
                for a in others
            ]
        },
    )
    assert r.status_code == 200, r.content
    assert [x["verdict"] for x in r.json()["responses"]] == ["pass", "pass"]

    # a finding, resolved by the author
    r = reviewer.post(
        f"/api/v1/reviews/{rid}/findings/",
        {
            "severity": "critical",
            "title": "No idempotency key",
            "location": "§3",
            "impact": "double refunds",
            "recommendation": "add one",
            "verification": "test",
            "item": None,
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "open"
    fid = r.json()["id"]
    r = lead.post(f"/api/v1/reviews/{rid}/approve/", {"comment": "ship"})
    error = assert_error(r, 409)
    assert error["details"]["ready"] is False
    assert {rule["rule"] for rule in error["details"]["rules"]} >= {"blocking_findings", "signoffs"}
    r = author.post(f"/api/v1/reviews/{rid}/findings/{fid}/resolve/", {"note": "added a key"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"

    # sign-off, gate, approve, report, events
    r = reviewer.post(f"/api/v1/reviews/{rid}/signoffs/", {"comment": "looks good"})
    assert r.status_code == 201, r.content
    r = lead.get(f"/api/v1/reviews/{rid}/gate/")
    assert r.status_code == 200
    gate = r.json()
    assert gate["ready"] is True
    assert all({"rule", "status", "blocking"} <= set(rule) for rule in gate["rules"])
    with django_capture_on_commit_callbacks(execute=True):
        r = lead.post(f"/api/v1/reviews/{rid}/approve/", {"comment": "ready"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "approved"
    assert Review.objects.get(pk=rid).state == "approved"

    r = lead.get(f"/api/v1/reviews/{rid}/report/")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/markdown")
    assert "Refunds" in r.content.decode()
    r = lead.get(f"/api/v1/reviews/{rid}/report/?format=csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    r = lead.get(f"/api/v1/reviews/{rid}/report.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")

    r = lead.get(f"/api/v1/events/?review={rid}")
    assert r.status_code == 200
    events = r.json()
    assert "count" not in events and {"next", "previous", "results"} <= set(events)
    assert {"id", "verb", "actor", "object", "created_at"} <= set(events["results"][0])
    verbs = [e["verb"] for e in events["results"]]
    assert verbs[0] == "review.approve" and "review.created" in verbs

    # revision after approval: back to in_review
    r = author.post(
        f"/api/v1/specs/{spec_id}/revisions/",
        {"label": "r2", "link": "https://docs.example.com/refunds-2", "note": "idempotency"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["label"] == "r2"
    assert Review.objects.get(pk=rid).state == "in_review"


def test_publish_and_export(as_user, db):
    curator = as_user(UserFactory(curator=True))
    r = curator.post(
        "/api/v1/checklists/import/",
        {"content": SIMPLE_CHECKLIST, "source_name": "api.md", "slug": "api"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["version"]["status"] == "draft"
    r = curator.post("/api/v1/checklists/api/versions/1/publish/")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "published"
    r = curator.post("/api/v1/checklists/api/versions/1/publish/")
    assert_error(r, 409)
    r = curator.get("/api/v1/checklists/api/versions/1/export/")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/markdown")
    assert "The API contract is written down" in r.content.decode()
    r = curator.get("/api/v1/checklists/api/versions/1/")
    assert r.status_code == 200
    tree = r.json()
    assert [s["title"] for s in tree["sections"]][0] == "Quality gate"
    assert tree["sections"][0]["items"][0]["is_gate"] is True
