import pytest

from tests.reviews.factories import make_world


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login
