"""Payloads are frozen when the event happens: retries and redeliveries send the same body, with
the same delivery id, whatever happened to the review since."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.services import review_request_changes, review_submit
from webhooks.models import Delivery
from webhooks.services import deliver_due, delivery_redeliver, webhook_create

pytestmark = pytest.mark.django_db


def _ids(headers):
    return headers["X-Specgate-Delivery"], headers.get("webhook-id")


def test_a_retry_sends_the_body_of_the_moment_of_the_event(
    world, receiver, django_capture_on_commit_callbacks
):
    rx = receiver([500])
    webhook_create(actor=world.lead, project=world.project, url=rx.url, events=["review.submitted"])
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    # the review moves on before the retry is due
    with django_capture_on_commit_callbacks(execute=True):
        review_request_changes(actor=world.lead, review=world.review, comment="more, please")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_due(now=timezone.now() + timedelta(hours=1)) == 1

    assert len(rx.requests) == 2
    (first_headers, first), (retry_headers, retry) = rx.requests
    assert retry == first
    assert json.loads(retry)["review"]["state"] == "in_review"
    assert _ids(retry_headers) == _ids(first_headers)


def test_a_redelivery_sends_the_same_body_with_the_same_delivery_id(
    world, receiver, as_user, django_capture_on_commit_callbacks
):
    rx = receiver()
    hook = webhook_create(actor=world.lead, project=world.project, url=rx.url)
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    with django_capture_on_commit_callbacks(execute=True):
        review_request_changes(actor=world.lead, review=world.review, comment="again")
    submitted = Delivery.objects.get(webhook=hook, event_type="review.submitted")
    with django_capture_on_commit_callbacks(execute=True):
        r = as_user(world.lead).post(
            f"/api/v1/webhooks/{hook.pk}/deliveries/{submitted.pk}/redeliver/"
        )
    assert r.status_code == 201, r.content
    assert r.json()["guid"] == str(submitted.guid)

    first = next(body for h, body in rx.requests if h["X-Specgate-Event"] == "review.submitted")
    headers, again = rx.requests[-1]
    assert again == first
    payload = json.loads(again)
    assert payload["review"]["state"] == "in_review"
    assert payload["delivery"] == str(submitted.guid)
    assert _ids(headers) == (str(submitted.guid), str(submitted.guid))
    # a redelivery of a redelivery still carries the original id
    again_row = Delivery.objects.get(pk=r.json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        third = delivery_redeliver(actor=world.lead, delivery=again_row)
    assert third.guid == submitted.guid and rx.requests[-1][1] == first


def test_each_event_carries_the_state_it_describes(
    world, receiver, django_capture_on_commit_callbacks
):
    rx = receiver()
    webhook_create(actor=world.lead, project=world.project, url=rx.url)
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
        review_request_changes(actor=world.lead, review=world.review, comment="x")
    states = {
        json.loads(body)["type"]: json.loads(body)["review"]["state"] for _h, body in rx.requests
    }
    assert states == {
        "review.submitted": "in_review",
        "review.changes_requested": "changes_requested",
    }
