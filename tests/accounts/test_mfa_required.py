import pytest
from allauth.mfa.models import Authenticator

from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def require_mfa(settings):
    settings.SPECGATE_MFA_REQUIRED_FOR_LEADS = True


@pytest.mark.parametrize("who", ["lead", "curator"])
def test_leads_and_curators_are_sent_to_enrol_totp(client, who):
    world = make_world()
    user = world.lead if who == "lead" else UserFactory(curator=True)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_reviewers_are_not_forced(client):
    world = make_world()
    client.force_login(world.reviewer)
    assert client.get("/").status_code == 200


def test_lead_with_totp_goes_on(client):
    world = make_world()
    Authenticator.objects.create(user=world.lead, type=Authenticator.Type.TOTP, data={})
    client.force_login(world.lead)
    assert client.get("/").status_code == 200
