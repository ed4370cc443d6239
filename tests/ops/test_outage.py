"""A database outage answers 503 with Retry-After (the API's envelope, or a plain page), not a
500 — whether the database fails mid-request, at connect time, or in a middleware before any
view runs. The database is made to fail here inside the process (every query, or the connect,
raises what Django raises when PostgreSQL is down); tests/ops/test_outage_faults.py stops it
for real."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, override_settings

from accounts.services import token_create
from reviews.models import Response
from reviews.services import review_submit
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db

DOWN = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


@contextmanager
def database_down(error=DOWN):
    """Every query fails as it does while the server is stopped."""

    def refuse(execute, sql, params, many, context):
        raise error

    with connection.execute_wrapper(refuse):
        yield


@contextmanager
def connect_refused():
    """Opening a connection fails (the server is not listening)."""
    with mock.patch.object(connection, "ensure_connection", side_effect=DOWN):
        yield


@pytest.fixture
def world():
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    return world


def browser(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_api_503(response):
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response["X-Request-ID"]


def assert_page_503(response):
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) >= 1
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Temporarily unavailable" in page and "Traceback" not in page


@pytest.mark.parametrize("outage", [database_down, connect_refused])
def test_api_write_with_a_token_answers_503(world, outage):
    token = token_create(actor=world.reviewer, name="ci").raw
    item = world.review.responses.first().item_id
    client = Client(raise_request_exception=False)
    with outage():
        response = client.patch(
            f"/api/v1/reviews/{world.review.pk}/responses/{item}/",
            {"verdict": "pass", "note": "during the outage"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    assert_api_503(response)
    assert Response.objects.get(review=world.review, item_id=item).verdict == "unanswered"


@pytest.mark.parametrize("error", [DOWN, InterfaceError("connection already closed")])
def test_api_read_in_a_session_answers_503(world, error):
    client = browser(world.viewer)
    with database_down(error):
        response = client.get(f"/api/v1/reviews/{world.review.pk}/gate/")
    assert_api_503(response)


@pytest.mark.parametrize("outage", [database_down, connect_refused])
def test_pages_answer_a_plain_503_page(world, outage):
    client = browser(world.reviewer)
    for url in (f"/reviews/{world.review.pk}/", "/"):
        with outage():
            response = client.get(url)
        assert_page_503(response)


@override_settings(SPECGATE_MFA_REQUIRED_FOR_LEADS=True)
def test_a_middleware_that_reads_the_database_answers_503_too(world):
    """The MFA check queries the database before any view runs; so does loading the session."""
    client = browser(world.lead)
    with database_down():
        page = client.get(f"/reviews/{world.review.pk}/")
        api = client.get(f"/api/v1/reviews/{world.review.pk}/")
    assert_page_503(page)
    assert_api_503(api)


@override_settings(SPECGATE_OUTAGE_RETRY_AFTER=17)
def test_retry_after_is_configurable(world):
    client = browser(world.viewer)
    with database_down():
        response = client.get(f"/api/v1/reviews/{world.review.pk}/")
    assert response.status_code == 503 and response["Retry-After"] == "17"


def test_other_errors_still_answer_500(world):
    client = browser(world.viewer)
    with mock.patch("reviews.api.views.reviews.evaluate_gate", side_effect=ValueError("bug")):
        response = client.get(f"/api/v1/reviews/{world.review.pk}/gate/")
    assert response.status_code == 500


def test_after_the_outage_requests_are_served_again(world):
    client = browser(world.viewer)
    with database_down():
        assert client.get(f"/api/v1/reviews/{world.review.pk}/").status_code == 503
    assert client.get(f"/api/v1/reviews/{world.review.pk}/").status_code == 200
