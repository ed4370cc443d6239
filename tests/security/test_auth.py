"""Authentication: rate-limited sign-in, the admin behind allauth, deactivation ends sessions
and tokens, tokens hashed / expiring / revocable / scoped, and recent authentication for
approving, overriding and creating tokens."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_create, token_revoke
from reviews.models import Review
from tests.accounts.factories import PASSWORD, UserFactory, record_reauthentication
from tests.reviews.factories import make_world
from tests.security.conftest import make_gate_ready

pytestmark = pytest.mark.django_db

REAUTH_URL = "/accounts/reauthenticate/"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts failures in the cache, which outlives a test: start from zero."""
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# --- sign-in ---------------------------------------------------------------------------------


def test_sixth_failed_sign_in_is_refused_even_with_the_right_password(client):
    UserFactory(email="victim@example.com")
    for _ in range(5):
        response = _sign_in(client, "victim@example.com", "wrong-password")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    response = _sign_in(client, "victim@example.com")
    assert response.status_code in (200, 429)
    assert "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)
    # Another account from the same address is not locked out by this one.
    UserFactory(email="bystander@example.com")
    assert _sign_in(client, "bystander@example.com").status_code == 302
    assert _signed_in(client)


def test_five_failures_then_success_is_allowed(client):
    UserFactory(email="clumsy@example.com")
    for _ in range(4):
        _sign_in(client, "clumsy@example.com", "wrong-password")
    assert _sign_in(client, "clumsy@example.com").status_code == 302
    assert _signed_in(client)


@pytest.mark.parametrize("path", ["/admin/login/", "/admin/", "/admin/reviews/review/"])
def test_admin_sign_in_goes_through_allauth(client, path):
    response = client.get(path, follow=False)
    assert response.status_code == 302
    # /admin/ first redirects to the admin login, which sends the user to allauth's page.
    location = response["Location"]
    if location.startswith("/admin/login/"):
        location = client.get(location)["Location"]
    assert location.startswith("/accounts/login/")


def test_admin_login_refuses_signed_in_non_staff(client):
    client.force_login(UserFactory())
    assert client.get("/admin/login/").status_code == 403


# --- deactivation --------------------------------------------------------------------------


def test_deactivating_a_user_ends_their_session_and_tokens(client):
    user = UserFactory(email="leaver@example.com")
    assert _sign_in(client, user.email).status_code == 302
    assert _signed_in(client)
    raw = token_create(actor=user, name="ci").raw
    assert bearer(raw).get("/api/v1/me/").status_code == 200
    session_api = APIClient()
    session_api.cookies = client.cookies
    assert session_api.get("/api/v1/me/").status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert session_api.get("/api/v1/me/").status_code == 401
    response = bearer(raw).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    # …and they cannot sign in again.
    _sign_in(client, user.email)
    assert not _signed_in(client)


# --- tokens --------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_nowhere_in_clear(user):
    issued = token_create(actor=user, name="ci", expires_in_days=30)
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.raw.startswith("sg_") and len(issued.raw) > 40
    assert row.key_hash != issued.raw and len(row.key_hash) == 64
    assert issued.raw[10:] not in row.prefix
    out = StringIO()
    call_command("dumpdata", stdout=out)  # every table, audit events included
    assert issued.raw not in out.getvalue()
    assert issued.raw[10:30] not in out.getvalue()


def test_tokens_expire(user):
    issued = token_create(actor=user, name="ci", expires_in_days=1)
    assert bearer(issued.raw).get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = bearer(issued.raw).get("/api/v1/me/")
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


def test_tokens_are_revocable_by_their_owner_only(user):
    issued = token_create(actor=user, name="ci")
    other = UserFactory()
    with pytest.raises(Exception, match="No such token"):
        token_revoke(actor=other, token_id=issued.token.pk)
    assert bearer(issued.raw).get("/api/v1/me/").status_code == 200
    token_revoke(actor=user, token_id=issued.token.pk)
    response = bearer(issued.raw).get("/api/v1/me/")
    assert response.status_code == 401 and "revoked" in response.json()["error"]["message"]


def test_read_only_tokens_only_read():
    world = make_world()
    client = bearer(token_create(actor=world.lead, name="ro", read_only=True).raw)
    item = world.review.responses.first().item_id
    assert client.get(f"/api/v1/reviews/{world.review.pk}/").status_code == 200
    writes = [
        ("post", f"/api/v1/reviews/{world.review.pk}/submit/", {}),
        ("patch", f"/api/v1/reviews/{world.review.pk}/responses/{item}/", {"verdict": "pass"}),
        ("post", f"/api/v1/reviews/{world.review.pk}/findings/", {"severity": "critical"}),
        ("post", "/api/v1/tokens/", {"name": "escalate"}),
        ("delete", f"/api/v1/tokens/{ApiToken.objects.get(user=world.lead).pk}/", None),
    ]
    for method, path, body in writes:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 403, (path, response.content)
    review = Review.objects.get(pk=world.review.pk)
    assert review.state == "draft" and not review.findings.exists()
    assert ApiToken.objects.filter(user=world.lead).count() == 1
    assert ApiToken.objects.get(user=world.lead).revoked_at is None


# --- reauthentication ----------------------------------------------------------------------


@pytest.fixture
def ready():
    world = make_world()
    make_gate_ready(world, "Name the metric")
    return world


def _confirm_password(client, response, password=PASSWORD):
    """Follow allauth's redirect to the reauthentication page and confirm the password; the
    suspended request then runs."""
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(REAUTH_URL), response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return client.post(response["Location"], {"password": password})


def test_approve_needs_a_recent_authentication(client, ready):
    client.force_login(ready.lead)  # signed in, but not recently confirmed
    url = f"/reviews/{ready.review.pk}/actions/approve/"
    response = client.post(url, {"comment": "ship"})
    assert Review.objects.get(pk=ready.review.pk).state == "in_review"
    # A wrong password does not approve.
    _confirm_password(client, response, "wrong-password")
    assert Review.objects.get(pk=ready.review.pk).state == "in_review"
    response = _confirm_password(client, client.post(url, {"comment": "ship"}))
    assert response.status_code == 302
    review = Review.objects.get(pk=ready.review.pk)
    assert review.state == "approved"
    assert review.signoffs.filter(user=ready.lead, comment="ship").exists()


def test_override_needs_a_recent_authentication(client, ready):
    client.force_login(ready.lead)
    url = f"/reviews/{ready.review.pk}/actions/override/"
    body = {"rule": "signoffs", "justification": "Only one reviewer this week"}
    response = client.post(url, body)
    assert not ready.review.overrides.exists()
    _confirm_password(client, response)
    assert ready.review.overrides.count() == 1


def test_token_creation_needs_a_recent_authentication(client, user):
    client.force_login(user)
    assert client.get("/tokens/").status_code == 200  # reading the list does not
    response = client.post("/tokens/", {"name": "CI", "expires_in_days": 30})
    assert not ApiToken.objects.filter(user=user).exists()
    confirmed = _confirm_password(client, response)
    token = ApiToken.objects.get(user=user)
    # The browser lands on the tokens page (not /accounts/reauthenticate/), showing it once.
    assert confirmed.status_code == 302 and confirmed["Location"] == "/tokens/"
    page = client.get("/tokens/")
    assert token.prefix in page.content.decode()


def test_authentication_older_than_the_timeout_is_not_recent(client, ready, settings):
    client.force_login(ready.lead)
    record_reauthentication(client, ready.lead)
    session = client.session
    session["account_authentication_methods"][0]["at"] = time.time() - 301
    session.save()
    response = client.post(f"/reviews/{ready.review.pk}/actions/approve/")
    assert response["Location"].startswith(REAUTH_URL)
    assert Review.objects.get(pk=ready.review.pk).state == "in_review"


def test_other_actions_do_not_ask_again(client, ready):
    client.force_login(ready.reviewer)
    response = client.post(f"/reviews/{ready.review.pk}/actions/signoff/", {"comment": "ok"})
    assert response["Location"] == f"/reviews/{ready.review.pk}/"
    assert ready.review.signoffs.filter(user=ready.reviewer).exists()


def test_anonymous_approve_goes_to_sign_in(client, ready):
    response = client.post(f"/reviews/{ready.review.pk}/actions/approve/")
    assert response["Location"].startswith("/accounts/login/")
    assert Review.objects.get(pk=ready.review.pk).state == "in_review"
