"""Deleting a webhook while one of its deliveries is in flight, or while a retry is scheduled,
ends that delivery quietly: no failed task, no error."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from reviews.services import review_submit
from webhooks.models import Delivery, Webhook
from webhooks.services import deliver_due, webhook_create, webhook_delete
from webhooks.tasks import deliver


@pytest.mark.django_db(transaction=True)
def test_deleting_a_webhook_while_its_delivery_is_in_flight(world, receiver):
    """The lead deletes the webhook (another request, another connection) while the receiver
    is still answering."""
    rx = receiver([500])
    hook = webhook_create(actor=world.lead, project=world.project, url=rx.url)

    def delete_meanwhile(headers, body):
        try:
            webhook_delete(actor=world.lead, webhook=Webhook.objects.get(pk=hook.pk))
        finally:
            connection.close()  # this thread's own connection

    rx.on_request = delete_meanwhile
    with pytest.MonkeyPatch.context() as mp:  # queue the task, run it by hand below
        mp.setattr("webhooks.services._enqueue", lambda *a, **k: None)
        review_submit(actor=world.author, review=world.review)
    (delivery,) = Delivery.objects.filter(webhook=hook)

    result = deliver.enqueue(delivery.pk)
    assert result.status == "SUCCESSFUL", result.errors and result.errors[0].traceback
    assert len(rx.requests) == 1
    assert not Webhook.objects.filter(pk=hook.pk).exists()
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_deleting_a_webhook_with_a_retry_scheduled(
    world, receiver, django_capture_on_commit_callbacks
):
    rx = receiver([500])
    hook = webhook_create(actor=world.lead, project=world.project, url=rx.url)
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    retry = Delivery.objects.get(webhook=hook, status="pending")
    webhook_delete(actor=world.lead, webhook=hook)

    result = deliver.enqueue(retry.pk)  # the scheduled retry's task comes due
    assert result.status == "SUCCESSFUL" and result.return_value is None
    assert deliver_due(now=timezone.now() + timedelta(days=1)) == 0
    assert len(rx.requests) == 1
