"""Background tasks (django.tasks): one webhook delivery attempt per task."""

from django.tasks import task


@task()
def deliver(delivery_id: int) -> str | None:
    from webhooks.services import attempt_delivery

    delivery = attempt_delivery(delivery_id)
    return delivery.status if delivery is not None else None
