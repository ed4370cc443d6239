"""Personal API tokens: issue, list, revoke, expiry, read-only; /me; the command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, hash_token
from accounts.services import MAX_TOKEN_DAYS, token_create
from config.errors import Forbidden, InvalidInput
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_create_list_and_revoke_tokens(user):
    client = APIClient()
    client.force_authenticate(user)
    r = client.post("/api/v1/tokens/", {"name": "CI", "read_only": True, "expires_in_days": 30})
    assert r.status_code == 201, r.content
    body = r.json()
    raw = body["token"]
    assert raw.startswith("sg_") and body["read_only"] is True and body["active"] is True
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash == hash_token(raw) and raw not in (token.prefix, token.key_hash)

    r = client.get("/api/v1/tokens/")
    assert r.status_code == 200
    listed = r.json()
    assert listed["count"] == 1 and "token" not in listed["results"][0]

    assert bearer(raw).get("/api/v1/me/").json()["email"] == user.email

    r = client.post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert r.status_code == 200 and r.json()["active"] is False
    assert_error(bearer(raw).get("/api/v1/me/"), 401)


def test_delete_revokes_and_others_tokens_are_not_found(user):
    mine = token_create(actor=user, name="mine")
    theirs = token_create(actor=UserFactory(), name="theirs")
    client = bearer(mine.raw)
    assert_error(client.delete(f"/api/v1/tokens/{theirs.token.pk}/"), 404)
    assert client.delete(f"/api/v1/tokens/{mine.token.pk}/").status_code == 204
    assert ApiToken.objects.get(pk=mine.token.pk).revoked_at is not None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "expires_in_days": "soon"},
        {"name": "ok", "expires_in_days": 0},
        {"name": "ok", "expires_in_days": MAX_TOKEN_DAYS + 1},
        {"name": ["a"]},
        {"name": "ok", "read_only": "maybe"},
    ],
)
def test_token_create_rejects_bad_input(user, payload):
    client = APIClient()
    client.force_authenticate(user)
    assert_error(client.post("/api/v1/tokens/", payload, format="json"), 400, "invalid")


def test_read_only_token_cannot_write(world):
    raw = token_create(actor=world.lead, name="ro", read_only=True).raw
    client = bearer(raw)
    assert client.get(f"/api/v1/reviews/{world.review.pk}/").status_code == 200
    assert_error(client.post(f"/api/v1/reviews/{world.review.pk}/submit/", {}), 403)
    assert_error(client.post("/api/v1/tokens/", {"name": "more"}), 403)


def test_expired_revoked_and_unknown_tokens_are_401(user):
    issued = token_create(actor=user, name="old", expires_in_days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(1))
    error = assert_error(bearer(issued.raw).get("/api/v1/me/"), 401)
    assert "expired" in error["message"]
    assert_error(bearer("sg_nope").get("/api/v1/me/"), 401)
    r = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer a b")
    assert_error(r, 401)
    r = APIClient().get("/api/v1/me/")
    assert_error(r, 401)
    assert r["WWW-Authenticate"] == "Bearer"


def test_me(world, as_user):
    body = as_user(world.lead).get("/api/v1/me/").json()
    assert body["email"] == world.lead.email
    assert body["projects"] == [{"slug": world.project.slug, "role": "lead"}]


def test_session_writes_need_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 200
    assert_error(client.post("/api/v1/tokens/", {"name": "x"}), 403)


def test_create_api_token_command(user):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token",
        user.email.upper(),
        "--read-only",
        "--expires",
        "7",
        "--name",
        "bot",
        stdout=out,
        stderr=err,
    )
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(key_hash=hash_token(raw))
    assert token.user == user and token.read_only and token.name == "bot"
    assert token.expires_at.date() == (timezone.now() + timedelta(days=7)).date()
    assert "not shown again" in err.getvalue()
    assert bearer(raw).get("/api/v1/me/").status_code == 200

    with pytest.raises(CommandError, match="1 to"):  # every token expires
        call_command("create_api_token", user.email, "--expires", "0", stdout=out, stderr=err)
    assert not ApiToken.objects.filter(user=user, expires_at__isnull=True).exists()
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody@example.com", stdout=out, stderr=err)
    with pytest.raises(CommandError):
        call_command("create_api_token", user.email, "--expires", "99999", stdout=out, stderr=err)


# --- every token expires --------------------------------------------------------------------


def test_a_token_that_never_expires_is_refused(user):
    client = APIClient()
    client.force_authenticate(user)
    r = client.post("/api/v1/tokens/", {"name": "forever", "expires_in_days": None}, format="json")
    error = assert_error(r, 400, "invalid")
    assert "expires_in_days" in error["details"]
    assert not ApiToken.objects.filter(user=user).exists()
    with pytest.raises(InvalidInput) as refused:
        token_create(actor=user, name="forever", expires_in_days=0)
    assert "expires_in_days" in refused.value.details


def test_expiry_defaults_to_ninety_days_and_is_capped(user):
    client = APIClient()
    client.force_authenticate(user)
    r = client.post("/api/v1/tokens/", {"name": "default"}, format="json")
    assert r.status_code == 201, r.content
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert token.expires_at.date() == (timezone.now() + timedelta(days=90)).date()
    r = client.post("/api/v1/tokens/", {"name": "max", "expires_in_days": MAX_TOKEN_DAYS})
    assert r.status_code == 201, r.content


# --- a token that makes a token: never longer-lived, never wider than itself ---------------


def _token(user, *, days=10, read_only=False):
    issued = token_create(actor=user, name="parent", expires_in_days=days, read_only=read_only)
    return issued.token, bearer(issued.raw)


def test_a_token_cannot_make_a_longer_lived_token(user):
    parent, client = _token(user, days=10)
    error = assert_error(
        client.post("/api/v1/tokens/", {"name": "child", "expires_in_days": 30}), 400, "invalid"
    )
    assert "expires_in_days" in error["details"] and "10" in error["message"]
    assert ApiToken.objects.filter(user=user).count() == 1

    r = client.post("/api/v1/tokens/", {"name": "child", "expires_in_days": 10})
    assert r.status_code == 201, r.content
    assert ApiToken.objects.get(pk=r.json()["id"]).expires_at <= parent.expires_at
    # Without an expiry the child gets the default, cut to its parent's.
    r = client.post("/api/v1/tokens/", {"name": "default"})
    assert r.status_code == 201, r.content
    assert ApiToken.objects.get(pk=r.json()["id"]).expires_at == parent.expires_at


def test_a_legacy_token_without_expiry_makes_only_expiring_tokens(user):
    parent, client = _token(user)
    ApiToken.objects.filter(pk=parent.pk).update(expires_at=None)
    r = client.post("/api/v1/tokens/", {"name": "child"})
    assert r.status_code == 201, r.content
    assert ApiToken.objects.get(pk=r.json()["id"]).expires_at is not None


def test_a_read_only_token_makes_no_token(user):
    parent, client = _token(user, read_only=True)
    for body in ({"name": "rw"}, {"name": "ro", "read_only": True, "expires_in_days": 1}):
        assert_error(client.post("/api/v1/tokens/", body), 403)
    assert ApiToken.objects.filter(user=user).count() == 1
    # The service holds the rule too, whoever calls it.
    with pytest.raises(Forbidden):
        token_create(actor=user, name="rw", parent=parent)


def test_a_token_makes_tokens_for_its_own_user_only(user):
    parent, _ = _token(user)
    with pytest.raises(Forbidden):
        token_create(actor=UserFactory(), name="stolen", parent=parent)


def test_the_audit_names_the_token_that_made_a_token(user):
    from audit.models import Event

    parent, client = _token(user)
    r = client.post("/api/v1/tokens/", {"name": "child", "expires_in_days": 5})
    assert r.status_code == 201, r.content
    event = Event.objects.filter(verb="token.created").latest("id")
    assert event.after["created_with_token"] == parent.pk
