import pytest

from tests.accounts.factories import record_reauthentication
from tests.reviews.factories import make_world


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        record_reauthentication(client, user)  # a recent sign-in, as approving needs
        return client

    return login
