"""Throttling per user and per token: 429 with Retry-After and the error body."""

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import token_create
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    cache.clear()
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"user": "3/min", "anon": "2/min", "import": "1/min", "token_create": "1/min"},
    )
    yield
    cache.clear()


def test_user_is_throttled_with_retry_after(api_client, low_rates):
    api_client.force_authenticate(UserFactory())
    codes = [api_client.get("/api/v1/me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert response.json()["error"]["code"] == "throttled"


def test_each_token_has_its_own_budget(api_client, low_rates):
    user = UserFactory()
    first = token_create(actor=user, name="a").raw
    second = token_create(actor=user, name="b").raw
    for _ in range(3):
        assert (
            api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 200
        )
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 429
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200


@pytest.fixture
def redis_cache(settings):
    """The production cache backend, on the local Redis (database 7), if one is running."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/7",
            "KEY_PREFIX": "specgate-tests",
        }
    }
    from django.core.cache import caches

    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def test_the_redis_window_counts_in_one_round_trip_and_expires(api_client, low_rates, redis_cache):
    api_client.force_authenticate(UserFactory())
    codes = [api_client.get("/api/v1/me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    client = redis_cache._cache.get_client(write=False)
    keys = client.keys("specgate-tests:*throttle_user*")
    assert len(keys) == 1 and int(client.get(keys[0])) == 4
    assert 0 < client.ttl(keys[0]) <= 61


# --- unauthenticated floods: 401s count too (DRF authenticates before it throttles) ---------


def _anonymous(api_client, token=None, addr="203.0.113.5"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return api_client.get("/api/v1/reviews/", REMOTE_ADDR=addr, **headers)


@pytest.mark.parametrize(
    "token", [None, "sg_not-a-real-token", "wrong"], ids=["none", "bad", "malformed"]
)
def test_unauthenticated_calls_are_throttled_per_address(api_client, low_rates, token):
    codes = [_anonymous(api_client, token).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    response = _anonymous(api_client, token)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    error = response.json()["error"]
    assert error["code"] == "throttled" and error["request_id"]
    # Another address has its own budget.
    assert _anonymous(api_client, token, addr="203.0.113.6").status_code == 401


def test_missing_and_bad_tokens_share_one_budget(api_client, low_rates):
    assert _anonymous(api_client).status_code == 401
    assert _anonymous(api_client, "sg_guess-1").status_code == 401
    assert _anonymous(api_client, "sg_guess-2").status_code == 429


def test_a_flood_does_not_hold_back_valid_tokens_from_the_same_address(api_client, low_rates):
    token = token_create(actor=UserFactory(), name="ci").raw
    for _ in range(5):
        _anonymous(api_client, "sg_guess")
    assert _anonymous(api_client, token).status_code == 200
