"""The checklist library over the API, and the audit events feed."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import Event
from reviews.services import review_submit
from tests.accounts.factories import UserFactory
from tests.api.conftest import SIMPLE_CHECKLIST, assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(as_user):
    return as_user(UserFactory(curator=True))


def test_import_raw_markdown_body_and_drafts_are_for_curators(curator_client, as_user):
    r = curator_client.generic(
        "POST",
        "/api/v1/checklists/import/?slug=raw&source_name=raw.md",
        SIMPLE_CHECKLIST.encode(),
        content_type="text/markdown",
    )
    assert r.status_code == 201, r.content
    assert r.json()["slug"] == "raw" and r.json()["version"]["status"] == "draft"
    reader = as_user(UserFactory())
    assert_error(reader.get("/api/v1/checklists/raw/versions/1/"), 404)
    assert reader.get("/api/v1/checklists/").json()["count"] == 0
    assert curator_client.get("/api/v1/checklists/raw/").json()["versions"][0]["status"] == "draft"
    assert_error(reader.post("/api/v1/checklists/raw/versions/1/publish/"), 404)


def test_only_curators_import_and_publish(world, as_user):
    lead = as_user(world.lead)
    r = lead.post(
        "/api/v1/checklists/import/", {"content": SIMPLE_CHECKLIST, "slug": "x"}, format="json"
    )
    assert_error(r, 403)
    slug = world.version.template.slug
    assert lead.get(f"/api/v1/checklists/{slug}/versions/1/").status_code == 200
    assert_error(lead.post(f"/api/v1/checklists/{slug}/versions/1/publish/"), 403)


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"", "empty"),
        (b"# Only a heading\n\nSome prose.\n", "no"),
        (b"\x00\x01\x02binary\xff\xfe", ""),
    ],
)
def test_bad_documents_are_400_naming_the_file(curator_client, content, needle):
    upload = SimpleUploadedFile("broken.md", content, "text/markdown")
    r = curator_client.post(
        "/api/v1/checklists/import/", {"file": upload, "slug": "broken"}, format="multipart"
    )
    error = assert_error(r, 400)
    assert "broken.md" in error["message"]
    assert needle in error["message"].lower()


def test_import_needs_a_file_or_content(curator_client):
    error = assert_error(
        curator_client.post("/api/v1/checklists/import/", {"slug": "x"}, format="json"), 400
    )
    assert "file" in error["details"]


def test_events_filters_and_cursor_pages(world, as_user):
    review_submit(actor=world.author, review=world.review)
    client = as_user(world.lead)
    r = client.get(f"/api/v1/events/?review={world.review.pk}&page_size=1")
    assert r.status_code == 200
    page = r.json()
    assert "count" not in page and len(page["results"]) == 1 and page["next"]
    assert page["results"][0]["verb"] == "review.submit"
    assert page["results"][0]["actor"] == world.author.email
    assert page["results"][0]["object"] == {
        "type": "review",
        "id": world.review.pk,
        "repr": str(world.review),
    }
    second = client.get(page["next"]).json()
    assert second["results"][0]["id"] < page["results"][0]["id"]

    by_actor = client.get(f"/api/v1/events/?actor={world.author.email.upper()}").json()
    assert {e["actor"] for e in by_actor["results"]} == {world.author.email}
    by_verb = client.get("/api/v1/events/?verb=review.created").json()["results"]
    assert [e["verb"] for e in by_verb] == ["review.created"]
    by_project = client.get(f"/api/v1/events/?project={world.project.slug}").json()["results"]
    assert by_project and {e["project"] for e in by_project} == {world.project.slug}
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/events/", {"since": future}).json()["results"] == []
    assert client.get("/api/v1/events/", {"until": future}).json()["results"]
    assert_error(client.get("/api/v1/events/?since=yesterday"), 400)
    assert_error(client.get("/api/v1/events/?cursor=bogus"), 404)


def test_checklist_events_are_visible_to_curators_only(world, as_user, curator_client):
    curator_client.post(
        "/api/v1/checklists/import/", {"content": SIMPLE_CHECKLIST, "slug": "c"}, format="json"
    )
    assert Event.objects.filter(verb="checklist.imported").exists()
    verbs = {e["verb"] for e in curator_client.get("/api/v1/events/").json()["results"]}
    assert "checklist.imported" in verbs
    lead_verbs = {e["verb"] for e in as_user(world.lead).get("/api/v1/events/").json()["results"]}
    assert "checklist.imported" not in lead_verbs


def test_review_list_filters(world, as_user):
    client = as_user(world.lead)
    rid = world.review.pk

    def ids(query):
        r = client.get(f"/api/v1/reviews/?{query}")
        assert r.status_code == 200, r.content
        return [x["id"] for x in r.json()["results"]]

    assert ids(f"project={world.project.slug}") == [rid]
    assert ids("project=nope") == []
    assert ids("state=draft") == [rid]
    assert ids("state=approved") == []
    assert ids(f"reviewer={world.reviewer.email}") == [rid]
    assert ids(f"reviewer={world.reviewer2.email}") == []
    assert ids(f"spec={world.spec.pk}") == [rid]
    assert ids(f"search={world.spec.title}") == [rid]
    assert ids(f"q={world.spec.title}") == [rid]
    assert ids("ordering=-created_at") == [rid]
    assert_error(client.get("/api/v1/reviews/?state=bogus"), 400)


def test_batch_is_all_or_nothing(world, as_user):
    review_submit(actor=world.author, review=world.review)
    client = as_user(world.reviewer)
    answers = list(world.review.responses.order_by("item__position"))
    r = client.patch(
        f"/api/v1/reviews/{world.review.pk}/responses/",
        {
            "responses": [
                {"item": answers[0].item_id, "verdict": "pass", "version": 1},
                {"item": answers[1].item_id, "verdict": "fail", "note": "", "version": 1},
            ]
        },
        format="json",
    )
    error = assert_error(r, 400)
    assert error["details"]["index"] == 1
    answers[0].refresh_from_db()
    assert answers[0].verdict == "unanswered"
