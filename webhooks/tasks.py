"""Background tasks (django.tasks): one webhook delivery attempt per task, on their own queue
(``webhooks``) so that a slow receiver never holds up e-mails or anything else; the worker must
serve both queues (``manage.py db_worker --queue-name default,webhooks``)."""

from django.tasks import task

QUEUE = "webhooks"


@task(queue_name=QUEUE)
def deliver(delivery_id: int) -> str | None:
    from webhooks.services import attempt_delivery

    delivery = attempt_delivery(delivery_id)
    return delivery.status if delivery is not None else None
