"""Every error answers {"error": {"code", "message", "details", "request_id"}} with the right
status, and no input makes the API answer 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from reviews.services import review_submit
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_400_names_the_field(world, as_user):
    error = assert_error(
        as_user(world.author).post("/api/v1/reviews/", {"spec": "abc"}, format="json"),
        400,
        "invalid",
    )
    assert "spec" in error["details"] and "template_versions" in error["details"]


def test_401_404_405(world, as_user):
    assert_error(APIClient().get("/api/v1/reviews/"), 401, "not_authenticated")
    client = as_user(world.lead)
    assert_error(client.get("/api/v1/reviews/999999/"), 404, "not_found")
    assert_error(client.get("/api/v1/reviews/abc/responses/"), 404)
    assert_error(client.get("/api/v1/checklists/nope/versions/1/"), 404)
    assert_error(client.delete(f"/api/v1/reviews/{world.review.pk}/"), 405, "method_not_allowed")
    assert_error(client.put(f"/api/v1/reviews/{world.review.pk}/gate/", {}), 405)


def test_409_with_reasons_and_the_gate(world, as_user):
    client = as_user(world.lead)
    error = assert_error(client.post(f"/api/v1/reviews/{world.review.pk}/approve/", {}), 409)
    assert error["details"]["reasons"]
    review_submit(actor=world.author, review=world.review)
    error = assert_error(client.post(f"/api/v1/reviews/{world.review.pk}/approve/", {}), 409)
    assert error["code"] == "gate_closed"
    assert error["details"]["ready"] is False
    assert {r["rule"] for r in error["details"]["rules"]} >= {"gate_items", "signoffs"}


def test_412_on_if_match_mismatch_and_etag_round_trip(world, as_user):
    client = as_user(world.reviewer)
    item = world.review.responses.order_by("item__position").first().item_id
    url = f"/api/v1/reviews/{world.review.pk}/responses/{item}/"
    r = client.get(url)
    etag = r["ETag"]
    assert etag == '"1"'
    r = client.patch(url, {"verdict": "pass"}, format="json", HTTP_IF_MATCH=etag)
    assert r.status_code == 200 and r["ETag"] == '"2"'
    error = assert_error(
        client.patch(url, {"verdict": "fail", "note": "no"}, format="json", HTTP_IF_MATCH=etag),
        412,
        "precondition_failed",
    )
    assert error["details"]["current"]["verdict"] == "pass"
    assert_error(client.patch(url, {"verdict": "na"}, format="json", HTTP_IF_MATCH="garbage"), 412)


def test_413_for_documents_over_2_mb(as_user):
    client = as_user(UserFactory(curator=True))
    big = "# S\n\n" + "- item\n" * 320_000  # 2.2 MB
    error = assert_error(
        client.post(
            "/api/v1/checklists/import/", {"content": big, "source_name": "big.md"}, format="json"
        ),
        413,
        "too_large",
    )
    assert "big.md" in error["message"]
    upload = SimpleUploadedFile("big.md", big.encode(), "text/markdown")
    r = client.post("/api/v1/checklists/import/", {"file": upload}, format="multipart")
    assert "big.md" in assert_error(r, 413, "too_large")["message"]
    r = client.generic(
        "POST", "/api/v1/checklists/import/?source_name=raw.md", big.encode(), "text/markdown"
    )
    assert_error(r, 413, "too_large")
    huge = "# S\n\n" + "- item\n" * 600_000  # over the request body limit itself
    r = client.post("/api/v1/checklists/import/", {"content": huge}, format="json")
    assert_error(r, 413, "too_large")


def test_415_for_an_unsupported_body(world, as_user):
    r = as_user(world.lead).generic(
        "POST",
        f"/api/v1/reviews/{world.review.pk}/submit/",
        b"<xml/>",
        content_type="application/xml",
    )
    assert_error(r, 415, "unsupported_media_type")


def test_malformed_json_is_400(world, as_user):
    r = as_user(world.lead).generic(
        "POST", "/api/v1/specs/", b"{not json", content_type="application/json"
    )
    assert_error(r, 400)


NASTY = [
    None,
    0,
    -1,
    2**70,
    "x" * 20_000,
    "",
    [],
    {},
    [1, "a"],
    {"a": {"b": [None]}},
    "\x00",
    True,
    1.5,
]


@pytest.mark.parametrize("value", NASTY, ids=[repr(v)[:20] for v in NASTY])
def test_no_500_for_any_value(world, as_user, value):
    review_submit(actor=world.author, review=world.review)
    client = as_user(world.lead)
    rid = world.review.pk
    item = world.review.responses.first().item_id
    calls = [
        ("post", "/api/v1/projects/", {"slug": value, "name": value}),
        ("post", f"/api/v1/projects/{world.project.slug}/members/", {"user": value, "role": value}),
        ("patch", f"/api/v1/projects/{world.project.slug}/", {"required_signoffs": value}),
        ("post", "/api/v1/specs/", {"project": value, "title": value, "link": value}),
        ("post", f"/api/v1/specs/{world.spec.pk}/revisions/", {"label": value, "link": value}),
        (
            "post",
            "/api/v1/reviews/",
            {"spec": value, "template_versions": value, "reviewers": value, "due_date": value},
        ),
        (
            "patch",
            f"/api/v1/reviews/{rid}/responses/{item}/",
            {"verdict": value, "note": value, "version": value},
        ),
        ("patch", f"/api/v1/reviews/{rid}/responses/", {"responses": value}),
        (
            "patch",
            f"/api/v1/reviews/{rid}/responses/",
            {"responses": [{"item": value, "verdict": "pass"}]},
        ),
        (
            "post",
            f"/api/v1/reviews/{rid}/findings/",
            {"severity": value, "title": value, "item": value},
        ),
        ("post", f"/api/v1/reviews/{rid}/signoffs/", {"comment": value}),
        (
            "post",
            f"/api/v1/reviews/{rid}/overrides/",
            {"rule": value, "justification": value, "expires_at": value},
        ),
        ("post", f"/api/v1/reviews/{rid}/reopen/", {"reason": value}),
        ("post", f"/api/v1/reviews/{rid}/migrate/", {"to_version": value}),
        ("post", "/api/v1/webhooks/", {"project": value, "url": value, "events": value}),
        ("post", "/api/v1/tokens/", {"name": value, "expires_in_days": value}),
        ("post", "/api/v1/checklists/import/", {"content": value, "slug": value, "publish": value}),
        (
            "get",
            f"/api/v1/reviews/?state={value}&spec={value}&reviewer={value}&ordering={value}",
            None,
        ),
        ("get", f"/api/v1/events/?review={value}&since={value}&cursor={value}", None),
        ("get", f"/api/v1/reviews/?page={value}&page_size={value}", None),
        ("get", f"/api/v1/reviews/{rid}/findings/?status={value}", None),
    ]
    for method, path, body in calls:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code < 500, (method, path, response.content[:300])
        if response.status_code >= 400:
            assert_error(response, response.status_code)


HUGE = "9" * 30


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/reviews/{HUGE}/",
        f"/api/v1/reviews/{HUGE}/responses/{HUGE}/",
        f"/api/v1/reviews/{HUGE}/findings/{HUGE}/",
        f"/api/v1/specs/{HUGE}/revisions/",
        f"/api/v1/checklists/x/versions/{HUGE}/",
        f"/api/v1/tokens/{HUGE}/",
        f"/api/v1/webhooks/{HUGE}/deliveries/",
        f"/api/v1/events/?review={HUGE}",
        f"/api/v1/reviews/?spec={HUGE}",
    ],
)
def test_huge_ids_are_not_found(world, as_user, path):
    response = as_user(world.lead).get(path)
    assert response.status_code in (400, 404), response.content[:300]
    assert_error(response, response.status_code)


def test_child_paths_of_a_visible_review(world, as_user):
    client = as_user(world.lead)
    rid = world.review.pk
    assert_error(client.get(f"/api/v1/reviews/{rid}/responses/999999/"), 404)
    assert_error(client.get(f"/api/v1/reviews/{rid}/findings/999999/"), 404)
    assert_error(client.post(f"/api/v1/reviews/{rid}/findings/999999/resolve/", {"note": "x"}), 404)
    assert_error(client.patch(f"/api/v1/reviews/{rid}/responses/{HUGE}/", {"verdict": "pass"}), 404)
    assert_error(client.get(f"/api/v1/reviews/{rid}/findings/{HUGE}/"), 404)
    slug = world.version.template.slug
    assert_error(client.get(f"/api/v1/checklists/{slug}/versions/{HUGE}/"), 404)


# --- oversized forms: 413 (Django raises them as SuspiciousOperation, which answered 400) ---


BIG_TEXT = "x" * (3 * 1024 * 1024 + 10)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        ({"login": "a@example.com", "password": BIG_TEXT}, "too large"),
        ({f"f{n}": "1" for n in range(1_100)}, "too many fields"),
    ],
    ids=["big body", "too many fields"],
)
def test_oversized_browser_forms_are_413(client, data, what):
    from urllib.parse import urlencode

    for body, content_type in [
        (urlencode(data), "application/x-www-form-urlencoded"),
        (data, None),  # the test client's multipart
    ]:
        kwargs = {"content_type": content_type} if content_type else {}
        response = client.post("/accounts/login/", body, **kwargs)
        assert response.status_code == 413, (content_type, response.status_code)
        page = response.content.decode()
        assert "Error 413" in page and what in page
        assert response["Content-Security-Policy"]


def test_oversized_api_form_is_413_with_the_envelope(world, as_user):
    client = as_user(UserFactory(curator=True))
    response = client.post(
        "/api/v1/checklists/import/", {"slug": "x", "changelog": BIG_TEXT}, format="multipart"
    )
    assert_error(response, 413, "too_large")
    fields = {f"f{n}": "1" for n in range(1_100)}
    response = client.post("/api/v1/checklists/import/", fields, format="multipart")
    assert_error(response, 413, "too_large")


def test_too_many_query_parameters_are_400(client):
    query = "&".join(f"f{n}=1" for n in range(1_100))
    response = client.get(f"/api/v1/reviews/?{query}")
    assert "too many fields" in assert_error(response, 400, "invalid")["message"]
