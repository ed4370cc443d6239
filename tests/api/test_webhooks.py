"""Webhooks: subscriptions by leads, signed deliveries to a loopback receiver (allowed by name,
as internal hosts must be), retries with backoff after a failure, disabling after repeated
failures, redelivery."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import Event
from reviews.services import finding_raise, review_submit
from tests.api.conftest import assert_error
from tests.webhooks.receiver import receivers
from webhooks.models import Delivery, Webhook
from webhooks.services import backoff, deliver_due, webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    """A loopback receiver (allowed by name, as internal hosts must be)."""
    yield from receivers(settings)


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does: recompute the HMAC over "<timestamp>.<body>"."""
    timestamp = headers["X-Specgate-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Specgate-Signature"], "sha256=" + expected.hexdigest())


def test_lead_creates_a_webhook_and_receives_signed_events(
    world, as_user, receiver, django_capture_on_commit_callbacks
):
    rx = receiver()
    client = as_user(world.lead)
    r = client.post(
        "/api/v1/webhooks/",
        {"project": world.project.slug, "url": rx.url, "events": ["review.submitted"]},
        format="json",
    )
    assert r.status_code == 201, r.content
    hook = r.json()
    secret = hook["secret"]
    assert len(secret) >= 32 and hook["events"] == ["review.submitted"] and hook["active"]
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook['id']}/").json()

    with django_capture_on_commit_callbacks(execute=True):
        r = as_user(world.author).post(f"/api/v1/reviews/{world.review.pk}/submit/", {})
    assert r.status_code == 200

    assert len(rx.requests) == 1
    headers, body = rx.requests[0]
    assert verify(secret, headers, body)
    assert not verify("wrong-secret", headers, body)
    assert headers["X-Specgate-Event"] == "review.submitted"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["type"] == "review.submitted"
    assert isinstance(payload["id"], int) and payload["created_at"]
    assert payload["object"]["type"] == "review" and payload["object"]["id"] == world.review.pk
    assert payload["review"]["state"] == "in_review"
    assert payload["project"] == world.project.slug

    deliveries = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries/").json()
    assert deliveries["count"] == 1
    (delivery,) = deliveries["results"]
    assert delivery["status"] == "succeeded" and delivery["status_code"] == 204
    assert delivery["guid"] == headers["X-Specgate-Delivery"]

    # not subscribed to finding.raised: nothing sent
    with django_capture_on_commit_callbacks(execute=True):
        finding_raise(actor=world.reviewer, review=world.review, severity="suggestion", title="t")
    assert len(rx.requests) == 1

    # redeliver: a new delivery of the same event, signed again
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver/")
    assert r.status_code == 201, r.content
    assert r.json()["event"] == delivery["event"] and r.json()["id"] != delivery["id"]
    assert Delivery.objects.get(pk=r.json()["id"]).status == "succeeded"
    assert len(rx.requests) == 2 and verify(secret, *rx.requests[1])
    assert Event.objects.filter(verb="webhook.redelivered").exists()


def test_a_failed_delivery_is_retried_with_backoff(
    world, receiver, django_capture_on_commit_callbacks
):
    rx = receiver([500])
    hook = webhook_create(actor=world.lead, project=world.project, url=rx.url)
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)

    first, retry = Delivery.objects.order_by("id")
    assert first.status == "failed" and first.status_code == 500
    assert first.response_excerpt == "receiver says no" and first.error == "HTTP 500"
    assert retry.status == "pending" and retry.attempt == 2 and retry.guid == first.guid
    assert retry.next_attempt_at >= first.attempted_at + backoff(1) - timedelta(seconds=1)
    hook.refresh_from_db()
    assert hook.failure_count == 1 and hook.active

    assert deliver_due() == 0  # not due yet
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_due(now=timezone.now() + timedelta(hours=1)) == 1
    retry.refresh_from_db()
    assert retry.status == "succeeded" and retry.delivered_at is not None
    assert len(rx.requests) == 2
    assert rx.requests[0][1] == rx.requests[1][1]  # the same event body
    assert rx.requests[0][0]["X-Specgate-Delivery"] == rx.requests[1][0]["X-Specgate-Delivery"]
    assert all(verify(hook.secret, h, b) for h, b in rx.requests)
    hook.refresh_from_db()
    assert hook.failure_count == 0


def test_webhook_is_disabled_after_consecutive_failures(
    world, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER = 3
    settings.WEBHOOK_MAX_ATTEMPTS = 10
    settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # a closed port on loopback
    hook = webhook_create(actor=world.lead, project=world.project, url="http://127.0.0.1:9/closed")
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    later = timezone.now()
    for _ in range(4):
        later += timedelta(days=1)
        with django_capture_on_commit_callbacks(execute=True):
            deliver_due(now=later)
    hook.refresh_from_db()
    assert not hook.active and hook.failure_count == 3
    assert "3 consecutive" in hook.disabled_reason
    assert Delivery.objects.filter(webhook=hook).count() == 3
    assert all(d.error for d in Delivery.objects.filter(webhook=hook))
    event = Event.objects.get(verb="webhook.disabled")
    assert event.actor is None and event.cause is not None


def test_webhook_management_is_for_leads(world, as_user):
    hook = webhook_create(actor=world.lead, project=world.project, url="https://hooks.test/x")
    assert as_user(world.reviewer).get("/api/v1/webhooks/").json()["count"] == 0
    assert as_user(world.lead).get("/api/v1/webhooks/").json()["count"] == 1
    assert_error(
        as_user(world.reviewer).patch(f"/api/v1/webhooks/{hook.pk}/", {"active": False}), 403
    )
    assert_error(as_user(world.outsider).delete(f"/api/v1/webhooks/{hook.pk}/"), 404)
    lead = as_user(world.lead)
    r = lead.patch(
        f"/api/v1/webhooks/{hook.pk}/",
        {"events": ["review.approved"], "active": False},
        format="json",
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["events"] == ["review.approved"]
    assert_error(
        lead.post(
            "/api/v1/webhooks/",
            {"project": world.project.slug, "url": "ftp://x.test/", "events": []},
            format="json",
        ),
        400,
    )
    assert_error(
        lead.post(
            "/api/v1/webhooks/",
            {"project": world.project.slug, "url": "https://x.test/", "events": ["nope"]},
            format="json",
        ),
        400,
    )
    assert lead.delete(f"/api/v1/webhooks/{hook.pk}/").status_code == 204
    assert not Webhook.objects.filter(pk=hook.pk).exists()
    assert Event.objects.filter(verb="webhook.deleted", project_id=world.project.pk).exists()
