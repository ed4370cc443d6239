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
