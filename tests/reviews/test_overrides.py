"""An active override of a rule refuses a second one on the same rule, with the reason, in the
service, the API (409) and the browser (a message); a lapsed or expired one does not."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_create
from audit.models import Event
from config.errors import Conflict
from reviews import services
from reviews.models import Override
from tests.accounts.factories import record_reauthentication

pytestmark = pytest.mark.django_db


def _grant(world, rule="signoffs", justification="Reviewed in the meeting", **kwargs):
    return services.override_grant(
        actor=world.lead, review=world.review, rule=rule, justification=justification, **kwargs
    )


def test_a_second_override_of_an_active_one_is_refused_with_the_reason(world):
    first = _grant(world)
    with pytest.raises(Conflict) as refused:
        _grant(world, justification="Again")
    message = refused.value.message
    assert "already overridden" in message and world.lead.label in message
    assert refused.value.details["reasons"] == [message.removeprefix("Cannot override: ")]
    assert refused.value.details["override"] == first.pk
    assert list(Override.objects.values_list("pk", flat=True)) == [first.pk]
    assert Event.objects.filter(verb="override.granted").count() == 1


def test_another_rule_may_still_be_overridden(world):
    _grant(world, rule="signoffs")
    _grant(world, rule="gate_items")
    assert Override.objects.count() == 2


def test_a_lapsed_override_may_be_granted_again(world):
    _grant(world, rule="gate_items")
    item = world.items()["item-3"]
    services.response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass"
    )  # the content changed: the override lapsed
    _grant(world, rule="gate_items", justification="Still accepted")
    assert Override.objects.filter(rule="gate_items").count() == 2


def test_an_expired_override_may_be_granted_again(world):
    first = _grant(world, expires_at=timezone.now() + timedelta(hours=1))
    Override.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _grant(world, justification="Renewed")
    assert Override.objects.count() == 2


def test_the_api_answers_409_with_the_reason(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=world.lead, name='ci').raw}")
    url = f"/api/v1/reviews/{world.review.pk}/overrides/"
    body = {"rule": "signoffs", "justification": "Reviewed in the meeting"}
    assert client.post(url, body).status_code == 201
    refused = client.post(url, {**body, "justification": "Twice"})
    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "already_overridden"
    assert "already overridden" in error["message"]
    assert any("already overridden" in r for r in error["details"]["reasons"])
    assert Override.objects.count() == 1


def test_the_browser_says_why_the_second_override_was_refused(world, client):
    client.force_login(world.lead)
    record_reauthentication(client, world.lead)
    url = reverse("reviews:action", args=[world.review.pk, "override"])
    body = {"rule": "signoffs", "justification": "Reviewed in the meeting"}
    granted = client.post(url, body, follow=True)
    assert "Override granted." in granted.content.decode()
    page = client.post(url, {**body, "justification": "Twice"}, follow=True)
    assert "already overridden" in page.content.decode()
    assert "Override granted." not in page.content.decode()
    assert Override.objects.count() == 1
