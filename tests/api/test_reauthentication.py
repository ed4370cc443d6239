"""A browser session must confirm the password before approving or overriding over the API too;
personal tokens are exempt."""

import time

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_create
from reviews.models import Review
from tests.accounts.factories import record_reauthentication
from tests.reviews.factories import make_ready_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_world():
    world = make_ready_world()
    return world


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("approve/", {"comment": "ok"}),
        ("overrides/", {"rule": "signoffs", "justification": "met in person"}),
    ],
)
def test_session_needs_recent_password(ready_world, path, body):
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(ready_world.lead)
    url = f"/api/v1/reviews/{ready_world.review.pk}/{path}"
    refused = client.post(url, body, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reauthentication_required"
    record_reauthentication(client, ready_world.lead)
    assert client.post(url, body, format="json").status_code in (200, 201)


def test_token_is_exempt(ready_world):
    raw = token_create(actor=ready_world.lead, name="ci").raw
    client = APIClient()
    response = client.post(
        f"/api/v1/reviews/{ready_world.review.pk}/approve/",
        {},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200
    assert response.json()["state"] == "approved"


# --- creating a token: a session needs the same recent password check as the tokens page -----


def test_session_token_creation_needs_recent_password(ready_world):
    client = APIClient()
    client.force_login(ready_world.lead)  # signed in, but no recent password check
    refused = client.post("/api/v1/tokens/", {"name": "ci", "expires_in_days": 30}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reauthentication_required"
    assert not ApiToken.objects.filter(user=ready_world.lead).exists()

    record_reauthentication(client, ready_world.lead)
    created = client.post("/api/v1/tokens/", {"name": "ci", "expires_in_days": 30}, format="json")
    assert created.status_code == 201, created.content


def test_stale_password_check_cannot_mint_a_token_to_approve_with(ready_world):
    """The audit's chain: session without a recent password → token → approve."""
    client = APIClient()
    client.force_login(ready_world.lead)
    record_reauthentication(client, ready_world.lead)
    session = client.session
    session["account_authentication_methods"][0]["at"] = time.time() - 301
    session.save()
    response = client.post("/api/v1/tokens/", {"name": "ci"}, format="json")
    assert response.status_code == 403
    assert not ApiToken.objects.filter(user=ready_world.lead).exists()
    assert Review.objects.get(pk=ready_world.review.pk).state == "in_review"


def test_token_may_create_a_token_without_a_password_check(ready_world):
    raw = token_create(actor=ready_world.lead, name="ci").raw
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/api/v1/tokens/", {"name": "child", "read_only": True}, format="json")
    assert response.status_code == 201, response.content
