"""allauth's rate limits (settings.ACCOUNT_RATE_LIMITS) guard sign-up, password reset and
sign-in, the admin's login included, and forget failures once their window has passed."""

import time

import pytest
from allauth.core.internal.ratelimit import parse_rates
from django.conf import settings
from django.core import mail
from django.core.cache import cache

from accounts.models import User
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts attempts in the cache, which outlives a test: start from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """Time travel for the rate limits: allauth and the cache both read ``time.time()``."""
    real = time.time
    offset = {"seconds": 0.0}
    monkeypatch.setattr(time, "time", lambda: real() + offset["seconds"])

    def travel(seconds: float) -> None:
        offset["seconds"] += seconds

    return travel


def _rate(action: str, per: str):
    """The configured limit, so the tests follow the settings (and fail if one is removed)."""
    rates = [r for r in parse_rates(settings.ACCOUNT_RATE_LIMITS.get(action)) if r.per == per]
    assert rates, f"ACCOUNT_RATE_LIMITS[{action!r}] has no per-{per} limit"
    return min(rates, key=lambda r: r.amount)


def _sign_in(client, email, password=PASSWORD, path="/accounts/login/"):
    return client.post(path, {"login": email, "password": password})


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def _lock_out(client, email):
    limit = _rate("login_failed", "key")
    for _ in range(limit.amount):
        assert "not correct" in _sign_in(client, email, "wrong-password").content.decode()
    response = _sign_in(client, email)
    assert "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)
    return limit


# --- sign-up -------------------------------------------------------------------------------


def test_sign_up_is_rate_limited_per_address(client):
    limit = _rate("signup", "ip")
    assert limit.amount <= 20 and limit.duration <= 3600
    for n in range(limit.amount):
        response = client.post(
            "/accounts/signup/",
            {"email": f"bot{n}@example.com", "password1": "x", "password2": "y"},
        )
        assert response.status_code == 200  # refused by the form, but counted
    response = client.post(
        "/accounts/signup/",
        {
            "email": "late@example.com",
            "name": "Late Person",
            "password1": "a-Long-passw0rd!",
            "password2": "a-Long-passw0rd!",
        },
    )
    assert response.status_code == 429
    assert not User.objects.filter(email="late@example.com").exists()
    # Another address is not held back.
    response = client.post(
        "/accounts/signup/",
        {
            "email": "late@example.com",
            "name": "Late Person",
            "password1": "a-Long-passw0rd!",
            "password2": "a-Long-passw0rd!",
        },
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    assert User.objects.filter(email="late@example.com").exists()


# --- password reset ------------------------------------------------------------------------


def test_password_reset_is_rate_limited_per_account(client):
    UserFactory(email="forgetful@example.com")
    UserFactory(email="other@example.com")
    limit = _rate("reset_password", "key")
    assert limit.amount <= 5
    for _ in range(limit.amount):
        response = client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
        assert response.status_code == 302
    response = client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
    assert response.status_code == 429
    assert len(mail.outbox) == limit.amount
    # The limit is per account: someone else may still reset theirs.
    assert (
        client.post("/accounts/password/reset/", {"email": "other@example.com"}).status_code == 302
    )
    assert len(mail.outbox) == limit.amount + 1


def test_password_reset_is_rate_limited_per_address(client):
    limit = _rate("reset_password", "ip")
    for n in range(limit.amount):
        response = client.post("/accounts/password/reset/", {"email": f"nobody{n}@example.com"})
        assert response.status_code == 302
    response = client.post("/accounts/password/reset/", {"email": "late@example.com"})
    assert response.status_code == 429


# --- the admin's login ---------------------------------------------------------------------


def test_admin_login_never_checks_a_password_itself(client):
    """A credentials POST to /admin/login/ is sent to allauth's sign-in (which counts failures);
    the admin's own form never runs, so it cannot be used to guess passwords unthrottled."""
    admin = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    for password in ("wrong-password", PASSWORD):
        response = client.post("/admin/login/", {"username": admin.email, "password": password})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not _signed_in(client)
    admin.refresh_from_db()
    assert admin.last_login is None


def test_a_locked_out_staff_account_cannot_sign_in_through_the_admin(client):
    admin = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    _lock_out(client, admin.email)
    response = client.post("/admin/login/", {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # Following the redirect lands on allauth's form, which still refuses the right password.
    assert "Too many failed login attempts" in _sign_in(client, admin.email).content.decode()
    assert client.get("/admin/").status_code == 302


# --- the window ----------------------------------------------------------------------------


def test_failures_older_than_the_window_no_longer_count(client, clock):
    UserFactory(email="victim@example.com")
    limit = _lock_out(client, "victim@example.com")
    assert limit.duration == 300  # five minutes

    clock(limit.duration - 5)  # still inside the window
    assert (
        "Too many failed login attempts" in _sign_in(client, "victim@example.com").content.decode()
    )
    assert not _signed_in(client)

    clock(10)  # the failures are now older than five minutes
    assert _sign_in(client, "victim@example.com").status_code == 302
    assert _signed_in(client)


def test_a_failure_inside_the_window_still_counts(client, clock):
    """Failures spread over time add up while each is younger than the window."""
    UserFactory(email="slow@example.com")
    limit = _rate("login_failed", "key")
    for _ in range(limit.amount):
        _sign_in(client, "slow@example.com", "wrong-password")
        clock(limit.duration / (limit.amount + 1))
    assert "Too many failed login attempts" in _sign_in(client, "slow@example.com").content.decode()
    clock(limit.duration)
    assert _sign_in(client, "slow@example.com").status_code == 302


# --- behind proxies: count per client, not per proxy -----------------------------------------

PROXY = "10.0.0.2"  # the TLS proxy every request arrives from


@pytest.fixture
def trusted_proxies(settings):
    """``trusted_proxies(n)``: the settings SPECGATE_TRUSTED_PROXY_COUNT=n gives (see
    tests/ops/test_settings.py for the environment → settings part)."""

    def configure(count: int) -> None:
        settings.SPECGATE_TRUSTED_PROXY_COUNT = count
        settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return configure


def _from(client, forwarded_for, email, password="wrong-password"):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def _exhaust_the_address_budget(client, forwarded_for):
    limit = _rate("login_failed", "ip")
    for n in range(limit.amount):  # different accounts: only the per-address limit is reached
        _from(client, forwarded_for, f"guess{n}@example.com")
    refused = _from(client, forwarded_for, "guess-last@example.com")
    assert "Too many failed login attempts" in refused.content.decode()


def test_behind_one_proxy_failed_sign_ins_count_per_client(client, trusted_proxies):
    trusted_proxies(1)
    UserFactory(email="colleague@example.com")
    # The client forged an entry; the proxy appended the address it really came from.
    _exhaust_the_address_budget(client, "1.2.3.4, 198.51.100.10")
    # A colleague behind the same proxy is not locked out.
    response = _from(client, "198.51.100.11", "colleague@example.com", PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/me/"])
def test_a_request_that_skipped_the_proxies_is_refused_not_a_500(client, trusted_proxies, path):
    """Behind two trusted proxies, an X-Forwarded-For with one address did not come through
    them (allauth raised ImproperlyConfigured on it: a 500): 400 naming the header."""
    trusted_proxies(2)
    client.raise_request_exception = False
    response = client.post(
        path,
        {"login": "someone@example.com", "password": "wrong-password"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.10",
    )
    assert response.status_code == 400
    assert "X-Forwarded-For" in response.content.decode()
    # Through both proxies the same request is read as usual.
    response = client.post(
        "/accounts/login/",
        {"login": "someone@example.com", "password": "wrong-password"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.10, 10.0.0.1",
    )
    assert response.status_code == 200


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(client, trusted_proxies):
    trusted_proxies(0)
    limit = _rate("login_failed", "ip")
    for n in range(limit.amount):  # a new forged address on every attempt
        _from(client, f"198.51.100.{n}", f"guess{n}@example.com")
    refused = _from(client, "203.0.113.99", "guess-last@example.com")
    assert "Too many failed login attempts" in refused.content.decode()


def test_api_throttles_count_per_client_behind_the_proxy(trusted_proxies, monkeypatch):
    from rest_framework.test import APIClient
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "9/min", "anon": "2/min"})
    api = APIClient()

    def codes(forwarded_for):
        return [
            api.get(
                "/api/v1/me/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for
            ).status_code
            for _ in range(3)
        ]

    trusted_proxies(1)
    assert codes("198.51.100.1") == [401, 401, 429]
    assert codes("198.51.100.2") == [401, 401, 429]  # another client behind the proxy


def test_api_throttles_ignore_a_forged_forwarded_for_by_default(monkeypatch):
    """No override: the settings as shipped (SPECGATE_TRUSTED_PROXY_COUNT unset → 0). DRF's
    own default (NUM_PROXIES None) keyed the budget by the whole X-Forwarded-For header."""
    from rest_framework.test import APIClient
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "9/min", "anon": "2/min"})
    api = APIClient()
    schema = [
        api.get("/api/schema/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        for n in range(3)
    ]
    assert [r.status_code for r in schema] == [200, 200, 429]
