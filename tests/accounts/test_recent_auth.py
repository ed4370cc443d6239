"""A fresh sign-in counts as a recent authentication: approving, overriding and creating a
token right after signing in (with or without MFA) do not ask for the password again; after the
timeout they do, and the user then lands where they were going."""

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from reviews.models import Review
from tests.accounts.factories import PASSWORD
from tests.reviews.factories import make_ready_world

pytestmark = pytest.mark.django_db

REAUTH = "/accounts/reauthenticate/"


@pytest.fixture
def ready_world():
    world = make_ready_world()
    for user in (world.lead, world.lead2, world.reviewer):
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return world


def sign_in(client, user):
    extra = {"format": "multipart"} if isinstance(client, APIClient) else {}
    data = {"login": user.email, "password": PASSWORD}
    response = client.post(reverse("account_login"), data, **extra)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def approve_url(world):
    return reverse("reviews:action", args=[world.review.pk, "approve"])


def test_approving_right_after_signing_in_does_not_ask_again(client, ready_world):
    sign_in(client, ready_world.lead)
    response = client.post(approve_url(ready_world), {"comment": "ok"})
    assert response.status_code == 302
    assert not response["Location"].startswith(REAUTH)
    ready_world.review.refresh_from_db()
    assert ready_world.review.state == "approved"


def test_overriding_right_after_signing_in_does_not_ask_again(client, ready_world):
    sign_in(client, ready_world.lead)
    url = reverse("reviews:action", args=[ready_world.review.pk, "override"])
    response = client.post(url, {"rule": "signoffs", "justification": "met in person"})
    assert not response["Location"].startswith(REAUTH)
    assert ready_world.review.overrides.count() == 1


def test_the_api_accepts_a_fresh_sign_in(ready_world):
    client = APIClient()
    sign_in(client, ready_world.lead)
    response = client.post(
        f"/api/v1/reviews/{ready_world.review.pk}/approve/", {"comment": "ok"}, format="json"
    )
    assert response.status_code == 200, response.content
    created = client.post("/api/v1/tokens/", {"name": "ci", "expires_in_days": 30}, format="json")
    assert created.status_code == 201, created.content


def test_a_sign_in_with_mfa_counts_as_recent(client, ready_world):
    secret = generate_totp_secret()
    TOTP.activate(ready_world.lead, secret)
    response = sign_in(client, ready_world.lead)
    assert response["Location"] == reverse("mfa_authenticate")
    counter = int(time.time()) // 30
    code = format_hotp_value(hotp_value(secret, counter))
    done = client.post(reverse("mfa_authenticate"), {"code": code})
    assert done.status_code == 302 and not done["Location"].startswith("/accounts/2fa")
    response = client.post(approve_url(ready_world), {"comment": "ok"})
    assert not response["Location"].startswith(REAUTH)
    ready_world.review.refresh_from_db()
    assert ready_world.review.state == "approved"


def _age_authentication(client, seconds):
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= seconds
    session["account_authentication_methods"] = records
    session.save()


def test_a_sign_in_older_than_the_timeout_asks_again(client, ready_world, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
    sign_in(client, ready_world.lead)
    _age_authentication(client, 301)
    response = client.post(approve_url(ready_world), {"comment": "ok"})
    assert response["Location"].startswith(REAUTH)
    assert Review.objects.get(pk=ready_world.review.pk).state == "in_review"
    api = APIClient()
    api.cookies = client.cookies
    refused = api.post("/api/v1/tokens/", {"name": "ci", "expires_in_days": 30}, format="json")
    assert refused.status_code == 403


def test_after_confirming_the_password_a_new_token_lands_on_the_tokens_page(client, ready_world):
    sign_in(client, ready_world.lead)
    _age_authentication(client, 3600)
    tokens = reverse("accounts:tokens")
    asked = client.post(tokens, {"name": "CI", "expires_in_days": "30"})
    assert asked.status_code == 302 and asked["Location"].startswith(REAUTH)
    confirmed = client.post(asked["Location"], {"password": PASSWORD}, follow=True)
    assert confirmed.redirect_chain, "the browser stays on the reauthentication page"
    assert confirmed.redirect_chain[-1][0] == tokens
    assert confirmed.request["PATH_INFO"] == tokens
    token = ApiToken.objects.get(user=ready_world.lead)
    body = confirmed.content.decode()
    assert "copy it now" in body and token.prefix in body
    # Shown once: the page does not show it again.
    assert "copy it now" not in client.get(tokens).content.decode()


def test_after_confirming_the_password_the_approval_lands_on_the_review(client, ready_world):
    sign_in(client, ready_world.lead)
    _age_authentication(client, 3600)
    asked = client.post(approve_url(ready_world), {"comment": "ok"})
    assert asked["Location"].startswith(REAUTH)
    confirmed = client.post(asked["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("reviews:review", args=[ready_world.review.pk])
    assert Review.objects.get(pk=ready_world.review.pk).state == "approved"
