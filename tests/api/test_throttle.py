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
