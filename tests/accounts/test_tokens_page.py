"""The browser's token page: every token expires, within the same bounds as the API."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import MAX_TOKEN_DAYS
from tests.accounts.factories import UserFactory, record_reauthentication

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    user = UserFactory()
    client.force_login(user)
    record_reauthentication(client, user)
    return client, user


@pytest.mark.parametrize("days", ["", "0", str(MAX_TOKEN_DAYS + 1)])
def test_the_page_refuses_a_token_without_a_valid_expiry(signed_in, days):
    client, user = signed_in
    response = client.post(reverse("accounts:tokens"), {"name": "CI", "expires_in_days": days})
    assert response.status_code == 400
    assert not ApiToken.objects.filter(user=user).exists()


def test_the_page_does_not_offer_a_token_that_never_expires(signed_in):
    client, _ = signed_in
    body = client.get(reverse("accounts:tokens")).content.decode()
    assert "does not expire" not in body
    assert 'name="expires_in_days"' in body and "required" in body


def test_the_page_makes_an_expiring_token(signed_in):
    client, user = signed_in
    response = client.post(
        reverse("accounts:tokens"), {"name": "CI", "expires_in_days": "30"}, follow=True
    )
    assert response.redirect_chain == [(reverse("accounts:tokens"), 302)]
    assert ApiToken.objects.get(user=user).expires_at is not None
