"""At least once: a claim on a delivery is a lease. A worker that dies mid-attempt leaves the
delivery pending and claimed; when the lease runs out it is attempted again, with the same
delivery id."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import Event
from reviews.services import review_submit
from webhooks.models import Delivery
from webhooks.services import deliver_due, webhook_create

pytestmark = pytest.mark.django_db


def _queued_but_not_run(world, url, django_capture_on_commit_callbacks):
    """An event's delivery, its task never run (it is the dead worker's)."""
    hook = webhook_create(actor=world.lead, project=world.project, url=url)
    with django_capture_on_commit_callbacks(execute=False):
        review_submit(actor=world.author, review=world.review)
    return hook, Delivery.objects.get(webhook=hook)


def test_a_delivery_claimed_by_a_dead_worker_is_delivered_after_its_lease(
    world, receiver, django_capture_on_commit_callbacks
):
    """The row a worker killed mid-attempt left behind before claims had leases: pending,
    ``attempted_at`` set, nobody working on it."""
    rx = receiver()
    hook = webhook_create(actor=world.lead, project=world.project, url=rx.url)
    with django_capture_on_commit_callbacks(execute=False):
        review_submit(actor=world.author, review=world.review)
    Delivery.objects.filter(webhook=hook).delete()  # (the outbox's own row, if any)
    claimed_at = timezone.now()
    delivery = Delivery.objects.create(
        webhook=hook,
        event=Event.objects.filter(verb="review.submit").latest("id"),
        event_type="review.submitted",
        next_attempt_at=claimed_at,
        attempted_at=claimed_at,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_due(now=claimed_at + timedelta(hours=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [h["X-Specgate-Delivery"] for h, _b in rx.requests] == [str(delivery.guid)]


def test_a_live_claim_is_left_alone_until_its_lease_runs_out(
    world, receiver, settings, django_capture_on_commit_callbacks
):
    settings.SPECGATE_WEBHOOK_CONNECT_TIMEOUT = 1
    settings.SPECGATE_WEBHOOK_READ_TIMEOUT = 2  # an attempt takes at most 4 s: a lease of 8 s
    rx = receiver()
    _hook, delivery = _queued_but_not_run(world, rx.url, django_capture_on_commit_callbacks)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        attempted_at=now, lease_expires_at=now + timedelta(seconds=8)
    )
    assert deliver_due(now=now + timedelta(seconds=7)) == 0
    assert rx.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_due(now=now + timedelta(seconds=9)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.lease_expires_at is None
    assert len(rx.requests) == 1


def test_the_deliver_webhooks_command_picks_up_expired_claims(
    world, receiver, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    rx = receiver()
    _hook, delivery = _queued_but_not_run(world, rx.url, django_capture_on_commit_callbacks)
    Delivery.objects.filter(pk=delivery.pk).update(attempted_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("deliver_webhooks")
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(rx.requests) == 1
