import importlib
import sys

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.permissions import CURATOR_GROUP
from accounts.services import token_create
from reviews.models import Role
from reviews.services import membership_set
from tests.accounts.factories import UserFactory, record_reauthentication
from tests.api.conftest import assert_error
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def require_mfa(settings):
    settings.SPECGATE_MFA_REQUIRED_FOR_LEADS = True


@pytest.fixture
def world_with_lead_session():
    """A lead signed in through the browser, with a recent password check (so only MFA is
    missing), and an API client sharing that session."""
    world = make_world()
    api = APIClient()
    api.force_login(world.lead)
    record_reauthentication(api, world.lead)
    return world, api


@pytest.mark.parametrize("who", ["lead", "curator"])
def test_leads_and_curators_are_sent_to_enrol_totp(client, who):
    world = make_world()
    user = world.lead if who == "lead" else UserFactory(curator=True)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_reviewers_are_not_forced(client):
    world = make_world()
    client.force_login(world.reviewer)
    assert client.get("/").status_code == 200


def test_lead_with_totp_goes_on(client):
    world = make_world()
    Authenticator.objects.create(user=world.lead, type=Authenticator.Type.TOTP, data={})
    client.force_login(world.lead)
    assert client.get("/").status_code == 200


# --- the API: a browser session is held to the same rule; personal tokens are not ------------


def test_api_with_a_session_refuses_a_lead_without_totp(world_with_lead_session):
    world, api = world_with_lead_session
    for method, path, body in [
        ("get", "/api/v1/me/", None),
        ("get", f"/api/v1/reviews/{world.review.pk}/", None),
        ("post", "/api/v1/tokens/", {"name": "escape hatch", "expires_in_days": 30}),
    ]:
        response = getattr(api, method)(path, body, format="json")
        error = assert_error(response, 403, "mfa_required")
        assert "two-factor" in error["message"]
        assert response["Content-Type"].startswith("application/json")
    assert not ApiToken.objects.filter(user=world.lead).exists()


def test_api_with_a_session_lets_a_lead_with_totp_through(world_with_lead_session):
    world, api = world_with_lead_session
    Authenticator.objects.create(user=world.lead, type=Authenticator.Type.TOTP, data={})
    assert api.get("/api/v1/me/").status_code == 200
    response = api.post("/api/v1/tokens/", {"name": "ci", "expires_in_days": 30}, format="json")
    assert response.status_code == 201, response.content


def test_api_with_a_token_is_not_asked_for_mfa(world_with_lead_session):
    world, _ = world_with_lead_session
    raw = token_create(actor=world.lead, name="ci").raw
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/me/").status_code == 200
    # A session cookie next to the token changes nothing: the token authenticates.
    api.force_login(world.lead)
    assert api.get("/api/v1/me/").status_code == 200
    # A broken token is not waved through to the session either.
    api.credentials(HTTP_AUTHORIZATION="Bearer sg_not-a-token")
    assert_error(api.get("/api/v1/me/"), 401)


def test_api_with_a_session_of_a_reviewer_is_not_asked_for_mfa(client):
    world = make_world()
    api = APIClient()
    api.force_login(world.reviewer)
    assert api.get("/api/v1/me/").status_code == 200


def test_the_public_schema_stays_readable(world_with_lead_session):
    _, api = world_with_lead_session
    assert api.get("/api/schema/").status_code == 200


def test_a_reviewer_promoted_to_lead_mid_session_must_enrol(client):
    world = make_world()
    client.force_login(world.reviewer)
    api = APIClient()
    api.force_login(world.reviewer)
    assert client.get("/").status_code == 200
    assert api.get("/api/v1/me/").status_code == 200

    membership_set(
        actor=world.lead, project=world.project, email=world.reviewer.email, role=Role.LEAD
    )

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert_error(api.get("/api/v1/me/"), 403, "mfa_required")


def test_a_curator_made_mid_session_must_enrol(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/").status_code == 200
    user.groups.add(Group.objects.get_or_create(name=CURATOR_GROUP)[0])
    assert client.get("/").status_code == 302


def test_removing_totp_mid_session_asks_again(client):
    world = make_world()
    totp = Authenticator.objects.create(user=world.lead, type=Authenticator.Type.TOTP, data={})
    client.force_login(world.lead)
    assert client.get("/").status_code == 200
    totp.delete()
    assert client.get("/").status_code == 302


def test_the_check_costs_at_most_one_query(settings, django_assert_max_num_queries):
    world = make_world()
    Authenticator.objects.create(user=world.lead, type=Authenticator.Type.TOTP, data={})
    api = APIClient()
    api.force_login(world.lead)
    settings.SPECGATE_MFA_REQUIRED_FOR_LEADS = False
    with CaptureQueriesContext(connection) as without:
        assert api.get("/api/v1/me/").status_code == 200
    settings.SPECGATE_MFA_REQUIRED_FOR_LEADS = True
    with django_assert_max_num_queries(len(without) + 1):
        assert api.get("/api/v1/me/").status_code == 200


# --- the setting: on unless the environment turns it off ------------------------------------


def _load_settings(monkeypatch, module: str, **env):
    """Import a settings module afresh with the given environment (the test settings, which
    turn MFA off, are left as they are)."""
    monkeypatch.delenv("SPECGATE_MFA_REQUIRED", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    package = importlib.import_module("config.settings")
    saved_modules = {k: v for k, v in sys.modules.items() if k.startswith("config.settings.")}
    names = ("base", "local", "production", "test")
    saved_attrs = {k: getattr(package, k) for k in names if hasattr(package, k)}
    try:
        for name in saved_modules:
            del sys.modules[name]
        return importlib.import_module(module)
    finally:
        for name in [k for k in sys.modules if k.startswith("config.settings.")]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        for name in names:
            if name in saved_attrs:
                setattr(package, name, saved_attrs[name])
            elif hasattr(package, name):
                delattr(package, name)


SECRET = "p" + "".join(chr(ord("a") + i % 26) for i in range(60))


def test_mfa_is_required_by_default(monkeypatch):
    assert _load_settings(monkeypatch, "config.settings.base").SPECGATE_MFA_REQUIRED_FOR_LEADS
    production = _load_settings(monkeypatch, "config.settings.production", DJANGO_SECRET_KEY=SECRET)
    assert production.SPECGATE_MFA_REQUIRED_FOR_LEADS is True


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("0", False), ("true", True)])
def test_mfa_requirement_follows_the_environment(monkeypatch, raw, expected):
    module = _load_settings(monkeypatch, "config.settings.base", SPECGATE_MFA_REQUIRED=raw)
    assert module.SPECGATE_MFA_REQUIRED_FOR_LEADS is expected


def test_a_misspelt_mfa_setting_is_an_error_not_off(monkeypatch):
    with pytest.raises(ImproperlyConfigured):
        _load_settings(monkeypatch, "config.settings.base", SPECGATE_MFA_REQUIRED="nope")
