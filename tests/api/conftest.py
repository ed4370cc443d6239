import pytest
from rest_framework.test import APIClient

from accounts.services import token_create
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
