import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.test import APIClient

from accounts.models import ApiToken, hash_token
from accounts.services import token_create
from reviews.services import review_submit
from tests.api.fuzzing import FUZZ_TOKEN
from tests.reviews.factories import make_world

SIMPLE_CHECKLIST = """---
title: API review
description: What an API spec needs.
---

# Quality gate

- [ ] The API contract is written down

# Contract (Must Fix)

- Errors are specified for every endpoint

# Operations

- Metrics are named
"""


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def as_user():
    """``as_user(user)`` → an APIClient signed in with a real read-write token."""

    def make(user, read_only=False):
        client = APIClient()
        if user is not None:
            issued = token_create(actor=user, name="tests", read_only=read_only)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
        return client

    return make


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details", "request_id"}, body
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def keep_the_test_connection():
    """Calls go straight to the WSGI app, so Django would close the test's database connection
    (and its transaction) after each one; the test client avoids that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(db, keep_the_test_connection):
    """``FUZZ_TOKEN`` becomes a lead's read-write token, on a world whose review is in review."""
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    issued = token_create(actor=world.lead, name="fuzz")
    ApiToken.objects.filter(pk=issued.token.pk).update(
        key_hash=hash_token(FUZZ_TOKEN), prefix=FUZZ_TOKEN[:10]
    )
    return world
