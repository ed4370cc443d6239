import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command

from accounts.models import User
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_user_signs_in_by_email_case_insensitively(client):
    UserFactory(email="Mixed@Example.com")
    response = client.post("/accounts/login/", {"login": "MIXED@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused(client):
    UserFactory(email="a@example.com")
    response = client.post("/accounts/login/", {"login": "a@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_dashboard_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_up_creates_user_and_sends_verification(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "name": "New Person",
            "password1": "a-Long-passw0rd!",
            "password2": "a-Long-passw0rd!",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert EmailAddress.objects.filter(user=user, verified=False).exists()
    assert any("new@example.com" in m.to for m in mail.outbox)


def test_password_reset_sends_mail_with_link(client):
    UserFactory(email="forgot@example.com")
    response = client.post("/accounts/password/reset/", {"email": "forgot@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert re.search(r"/accounts/password/reset/key/", mail.outbox[0].body)


def test_sixth_failed_sign_in_is_rate_limited(client):
    UserFactory(email="target@example.com")
    for _ in range(5):
        client.post("/accounts/login/", {"login": "target@example.com", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"login": "target@example.com", "password": PASSWORD}
    )
    assert response.status_code in (200, 429)
    assert client.get("/").status_code == 302  # still not signed in


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_superuser_reaches_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200


def test_mfa_pages_available(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/2fa/").status_code == 200
    assert client.get("/accounts/2fa/totp/activate/").status_code in (200, 302)


def test_create_superuser_command(db):
    call_command("createsuperuser", email="boss@example.com", interactive=False, verbosity=0)
    assert User.objects.get(email="boss@example.com").is_superuser


def test_email_is_normalised_to_lower_case():
    user = User.objects.create_user("UPPER@EXAMPLE.COM", "x")
    assert user.email == "upper@example.com"
