"""Writing audit events. Every service that changes state calls ``record_event``."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.models import Event
from config.request_context import get_request_id

SYSTEM = "system"

# Functions called (after commit) with each new event: webhooks and notifications hook in here.
_subscribers: list[Callable[[Event], None]] = []
# Functions called inside the event's transaction: what they write (the webhook outbox) commits
# or rolls back with the event, and sees the state the event describes.
_writers: list[Callable[[Event], None]] = []


def subscribe(callback: Callable[[Event], None], *, in_transaction: bool = False) -> None:
    callbacks = _writers if in_transaction else _subscribers
    if callback not in callbacks:
        callbacks.append(callback)


def _canonical(event: Event) -> str:
    return json.dumps(
        {
            "prev": event.prev_hash,
            "at": event.created_at.isoformat(),
            "actor": event.actor_id,
            "actor_label": event.actor_label,
            "verb": event.verb,
            "object": [event.object_type, event.object_id, event.object_repr],
            "project": event.project_id,
            "review": event.review_id,
            "cause": event.cause_id,
            "before": event.before,
            "after": event.after,
            "request_id": event.request_id,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def compute_hash(event: Event) -> str:
    return hashlib.sha256(_canonical(event).encode("utf-8")).hexdigest()


def _lock_chain() -> None:
    """Serialise appends so that the hash chain has no forks. The lock is held until commit
    and is the last one a transaction takes: lock and write your rows first, then record the
    event (the lock order written down in ``reviews.services``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [7_345_001])


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value or {}, default=str))


# No savepoint: an event is written inside its cause's transaction and fails with it (two
# queries fewer on every write).
@transaction.atomic(savepoint=False)
def record_event(
    *,
    actor,
    verb: str,
    object_type: str,
    object_id: int | None = None,
    object_repr: str = "",
    project_id: int | None = None,
    review_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    cause: Event | None = None,
) -> Event:
    """Append one event. ``actor=None`` means the system did it (name the ``cause``)."""
    _lock_chain()
    previous = Event.objects.order_by("-id").values_list("hash", flat=True).first()
    now = timezone.now()
    event = Event(
        # milliseconds, as Django's JSON serialiser keeps them: backups restore the same hash
        created_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
        actor=actor,
        actor_label=actor.email if actor is not None else SYSTEM,
        verb=verb,
        object_type=object_type,
        object_id=object_id,
        object_repr=str(object_repr)[:300],
        project_id=project_id,
        review_id=review_id,
        cause=cause,
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=get_request_id() if get_request_id() != "-" else "",
        prev_hash=previous or "",
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    for writer in _writers:
        writer(event)
    if _subscribers:
        transaction.on_commit(lambda: [callback(event) for callback in list(_subscribers)])
    return event


def verify_chain() -> tuple[bool, Event | None, str]:
    """Walk the chain in order; return (ok, first broken event, why)."""
    previous = ""
    for event in Event.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != previous:
            return False, event, f"event {event.pk} does not link to the event before it"
        if compute_hash(event) != event.hash:
            return False, event, f"event {event.pk} was altered after it was written"
        previous = event.hash
    return True, None, ""
