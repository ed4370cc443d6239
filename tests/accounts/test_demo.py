import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from accounts.models import User
from accounts.permissions import is_curator
from reviews.demo import build_demo

pytestmark = pytest.mark.django_db


def test_quickstart_without_serving_creates_a_user_per_role(capsys):
    call_command("quickstart", "--no-serve")
    out = capsys.readouterr().out
    for role in ("curator", "author", "reviewer", "lead", "viewer"):
        assert f"{role}@example.com" in out
    assert is_curator(User.objects.get(email="curator@example.com"))


def test_demo_is_idempotent():
    build_demo()
    build_demo()
    assert User.objects.filter(email="lead@example.com").count() == 1


def test_demo_refuses_production(settings):
    settings.SPECGATE_ENV = "production"
    with pytest.raises(ImproperlyConfigured):
        build_demo()
    assert not User.objects.exists()


def test_demo_user_can_sign_in(client):
    build_demo()
    response = client.post(
        "/accounts/login/", {"login": "reviewer@example.com", "password": "specgate-demo"}
    )
    assert response.status_code == 302
