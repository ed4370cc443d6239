import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: ids repeat between tests (rolled back), so a read
    cached by one test could otherwise answer another."""
    cache.clear()
    yield


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def curator(db):
    return UserFactory(curator=True, email="curator@example.com")


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True, email="root@example.com")


@pytest.fixture
def api_client():
    return APIClient()
