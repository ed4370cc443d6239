"""What schemathesis found: the API took input its schema calls invalid (and once answered
500). Each test pins one of those to the answer the schema promises."""

from urllib.parse import quote

import pytest

from reviews.services import review_submit
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


# --- a NUL in a path parameter (PostgreSQL cannot store or compare NUL: it answered 500) -------
# Refused centrally (config/input_guard.py) with 400 naming the path; test_hostile_input.py
# covers every operation.


def test_nul_in_a_member_email_is_400(world, as_user):
    client = as_user(world.lead)
    email = quote("a\x00b@example.com")
    error = assert_error(
        client.delete(f"/api/v1/projects/{world.project.slug}/members/{email}/"), 400, "invalid"
    )
    assert "path" in error["details"]
    assert world.project.memberships.filter(user=world.reviewer).exists()


# --- pagination: a malformed page or page size is refused, not silently replaced ----------------


@pytest.mark.parametrize(
    "query",
    [
        "page_size=abc",
        "page_size=null",
        "page_size=",
        "page_size=0",
        "page_size=-1",
        "page_size=1.5",
        "page_size=1&page_size=2",
        "page=",
        "page=0",
        "page=last",
        "page=%201",
    ],
)
def test_malformed_page_parameters_are_400(world, as_user, query):
    error = assert_error(as_user(world.lead).get(f"/api/v1/reviews/?{query}"), 400, "invalid")
    assert set(error["details"]) <= {"page", "page_size"}


def test_page_parameters_that_the_schema_allows(world, as_user):
    client = as_user(world.lead)
    assert client.get("/api/v1/reviews/?page_size=1&page=1").status_code == 200
    big = client.get("/api/v1/reviews/?page_size=" + "9" * 40)  # capped at 200
    assert big.status_code == 200 and big.json()["count"] >= 1
    for digits in (40, 5000):  # a whole number, past the last page (and past int()'s limit)
        assert_error(client.get("/api/v1/reviews/?page=" + "9" * digits), 404, "not_found")


def test_event_page_size_is_strict_too(world, as_user):
    client = as_user(world.lead)
    assert_error(client.get("/api/v1/events/?page_size=abc"), 400)
    assert client.get("/api/v1/events/?page_size=1").status_code == 200


# --- query filters: ids are whole numbers, times are RFC 3339 --------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "reviews/?spec=",
        "reviews/?spec=0",
        "reviews/?spec=1.0",
        "reviews/?spec=-4e-42",
        "reviews/?spec=%201",
        "events/?review=",
        "events/?review=1e3",
        "events/?until=",
        "events/?since=2026-01-01",
        "events/?since=20260101T000000Z",
        "events/?since=2026-01-01T00:00:00",
        "events/?since=2026-13-01T00:00:00Z",
        "events/?until=9999-12-31T23:59:59-23:59",
        "events/?since=0001-01-01T00:00:00%2B23:59",
    ],
)
def test_malformed_filters_are_400(world, as_user, query):
    assert_error(as_user(world.lead).get(f"/api/v1/{query}"), 400, "invalid")


def test_filters_that_the_schema_allows(world, as_user):
    client = as_user(world.lead)
    spec = world.review.spec_id
    assert client.get(f"/api/v1/reviews/?spec={spec}").json()["count"] == 1
    for moment in ["2000-01-01T00:00:00Z", "2000-01-01t00:00:00.5z", "2000-01-01T00:00:00+05:30"]:
        response = client.get(f"/api/v1/events/?since={quote(moment)}")
        assert response.status_code == 200, (moment, response.content)


# --- JSON bodies: values must have the schema's type; DRF used to coerce them ---------------


def test_json_values_of_the_wrong_type_are_400(world, as_user):
    review_submit(actor=world.author, review=world.review)
    client = as_user(world.lead)
    rid = world.review.pk
    item = world.review.responses.first().item_id
    calls = [
        (f"/api/v1/reviews/{rid}/findings/", {"severity": "important", "title": 13419}, "title"),
        (f"/api/v1/reviews/{rid}/findings/", {"severity": 1, "title": "x"}, "severity"),
        ("/api/v1/tokens/", {"name": "t", "read_only": "0"}, "read_only"),
        ("/api/v1/tokens/", {"name": "t", "expires_in_days": "7"}, "expires_in_days"),
        ("/api/v1/tokens/", {"name": "t", "expires_in_days": 7.0}, "expires_in_days"),
        ("/api/v1/reviews/", {"spec": "1", "template_versions": [1]}, "spec"),
        ("/api/v1/reviews/", {"spec": 1, "template_versions": ["1"]}, "template_versions"),
        ("/api/v1/reviews/", {"spec": 1, "template_versions": [1], "reviewers": [5]}, "reviewers"),
        (
            "/api/v1/reviews/",
            {"spec": 1, "template_versions": [1], "due_date": "20260101"},
            "due_date",
        ),
        (
            f"/api/v1/reviews/{rid}/overrides/",
            {"rule": "must_items", "justification": "x", "expires_at": "2999-01-01"},
            "expires_at",
        ),
        (f"/api/v1/reviews/{rid}/migrate/", {"to_version": True}, "to_version"),
    ]
    for url, body, field in calls:
        error = assert_error(client.post(url, body, format="json"), 400, "invalid")
        assert field in error["details"], (url, body, error)
    error = assert_error(
        client.patch(
            f"/api/v1/reviews/{rid}/responses/",
            {"responses": [{"item": str(item), "verdict": "pass"}]},
            format="json",
        ),
        400,
    )
    assert "responses" in error["details"]
    assert not world.review.findings.exists()


def test_json_values_of_the_right_type_still_work(world, as_user):
    review_submit(actor=world.author, review=world.review)
    client = as_user(world.lead)
    r = client.post("/api/v1/tokens/", {"name": "ci", "read_only": True, "expires_in_days": 7})
    assert r.status_code == 201, r.content
    r = client.post(
        f"/api/v1/reviews/{world.review.pk}/findings/",
        {"severity": "important", "title": "  Padded  ", "item": None},
        format="json",
    )
    assert r.status_code == 201 and r.json()["title"] == "Padded"


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\x1e\x1f", "\u3000"])
def test_blank_text_is_400_whatever_the_whitespace(world, as_user, blank):
    review_submit(actor=world.author, review=world.review)
    error = assert_error(
        as_user(world.lead).post(
            f"/api/v1/reviews/{world.review.pk}/findings/",
            {"severity": "important", "title": blank},
            format="json",
        ),
        400,
    )
    assert "title" in error["details"]


# --- bodies are JSON (DRF's form parsing read an empty field as null) -----------------------


def test_form_bodies_are_415_outside_the_checklist_import(world, as_user):
    client = as_user(world.author)
    data = {"spec": world.review.spec_id, "template_versions": 1, "due_date": ""}
    assert_error(
        client.post("/api/v1/reviews/", data, format="multipart"), 415, "unsupported_media_type"
    )
    response = client.generic(
        "POST",
        "/api/v1/reviews/",
        f"spec={world.review.spec_id}&template_versions=1&due_date=",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 415, "unsupported_media_type")
    assert world.review.spec.reviews.count() == 1
