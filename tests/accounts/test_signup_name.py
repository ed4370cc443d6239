"""Sign-up asks for a name, and allauth's e-mails name the site, not the host that served them."""

import re

import pytest
from django.core import mail

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "new@example.com",
    "password1": "a-Long-passw0rd!",
    "password2": "a-Long-passw0rd!",
}


def test_sign_up_page_asks_for_a_name(client):
    body = client.get("/accounts/signup/").content.decode()
    assert re.search(r'<input[^>]+name="name"', body)


def test_sign_up_saves_the_name(client):
    response = client.post("/accounts/signup/", {**SIGNUP, "name": "  Nora Newcomer "})
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").label == "Nora Newcomer"


def test_sign_up_without_a_name_is_refused_at_the_field(client):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not User.objects.filter(email="new@example.com").exists()


def test_e_mails_name_the_site_not_the_host(client, settings):
    settings.SPECGATE_SITE_NAME = "Acme Specgate"
    settings.SPECGATE_BASE_URL = "https://specgate.acme.test"
    UserFactory(email="forgot@example.com")
    client.post("/accounts/password/reset/", {"email": "forgot@example.com"}, HTTP_HOST="127.0.0.1")
    (message,) = mail.outbox
    assert message.subject.startswith("[Acme Specgate] ")
    assert "Acme Specgate" in message.body
    assert "127.0.0.1" not in message.subject + message.body
    assert "https://specgate.acme.test/accounts/password/reset/key/" in message.body


def test_e_mails_name_the_site_by_default_and_link_to_the_serving_host(client):
    client.post("/accounts/signup/", {**SIGNUP, "name": "Nora"}, HTTP_HOST="127.0.0.1")
    (message,) = [m for m in mail.outbox if "new@example.com" in m.to]
    assert message.subject.startswith("[Specgate] ")
    assert "Hello from Specgate" in message.body
    assert "http://127.0.0.1/accounts/confirm-email/" in message.body


def test_notifications_name_the_site_too(settings):
    from reviews.notifications import send_notification

    settings.SPECGATE_SITE_NAME = "Acme Specgate"
    send_notification.call(["a@example.com"], "Review #1 approved", "Approved.")
    assert mail.outbox[-1].subject == "[Acme Specgate] Review #1 approved"
