"""Webhook subscriptions (managed by project leads) and signed deliveries.

Outbox: every audit event is matched, inside the transaction that records it, against the
active webhooks of its project; each match becomes a ``Delivery`` row carrying the JSON body
frozen at that moment (the state the event describes, never a later one), and a background task
on the ``webhooks`` queue once the transaction commits. A delivery POSTs that body signed twice:
``X-Specgate-Signature`` (HMAC-SHA256 over ``"<timestamp>.<body>"``) and the Standard Webhooks
headers ``webhook-id`` / ``webhook-timestamp`` / ``webhook-signature``. A failed attempt is
logged and retried with exponential backoff (a new ``Delivery`` row per attempt, the same
``guid`` and body); after ``WEBHOOK_DISABLE_AFTER`` consecutive failures the webhook is
disabled. Targets are checked against internal addresses at subscription and at every attempt
(``webhooks.net``).

Delivery is at least once: an attempt claims its row for a lease; a worker that dies mid-attempt
leaves the claim to expire, and a follow-up task (enqueued with the claim) attempts it again.
Receivers drop duplicates by the delivery id.
"""

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

import standardwebhooks
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Event
from audit.services import record_event
from config.errors import InvalidInput
from reviews.models import Project, Review
from reviews.permissions import can_change_project_settings, require
from webhooks import net
from webhooks.models import EVENT_TYPE_CHOICES, EVENT_TYPES, Delivery, DeliveryStatus, Webhook

logger = logging.getLogger("specgate.webhooks")

USER_AGENT = net.USER_AGENT
SECRET_PREFIX = "whsec_"


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 5))


def disable_after() -> int:
    return int(getattr(settings, "WEBHOOK_DISABLE_AFTER", 10))


def backoff(attempt: int) -> timedelta:
    """Delay before attempt ``attempt + 1``: 30 s, 2 min, 8 min, 32 min, … (capped at 6 h)."""
    base = int(getattr(settings, "WEBHOOK_BACKOFF_SECONDS", 30))
    return timedelta(seconds=min(base * 4 ** (attempt - 1), 6 * 3600))


def lease() -> timedelta:
    """How long a claimed attempt is left alone: twice the longest an attempt can take."""
    return timedelta(seconds=2 * net.attempt_seconds())


# --- subscriptions -------------------------------------------------------------------------


def _require_lead(actor, project: Project) -> None:
    require(
        can_change_project_settings(actor, project),
        actor,
        project.pk,
        "Only the project's leads manage its webhooks.",
        "project",
    )


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        net.check(url, must_resolve=False)
    except net.Refused as exc:
        raise InvalidInput(
            f"The webhook URL {net.origin(url)} cannot be used: {exc}.",
            details={"url": [f"Refused: {exc}."]},
        ) from None
    return url


def _clean_secret(secret: str) -> str:
    """A Standard Webhooks secret (``whsec_`` + base64 of 24 to 64 bytes) or, as before, any
    string of at least 16 characters (then used as raw bytes by both signatures)."""
    secret = (secret or "").strip()
    if not secret.startswith(SECRET_PREFIX):
        if len(secret) < 16:
            raise InvalidInput(
                "A webhook secret needs at least 16 characters.",
                details={"secret": ["At least 16 characters."]},
            )
        return secret
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not 24 <= len(key) <= 64:
        raise InvalidInput(
            "A webhook secret starting with whsec_ must continue with the base64 of 24 to 64 "
            "random bytes.",
            details={"secret": ["whsec_ followed by base64 of 24 to 64 bytes."]},
        )
    return secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _clean_events(events) -> list[str]:
    events = list(dict.fromkeys(events or []))
    unknown = [e for e in events if e not in EVENT_TYPE_CHOICES]
    if unknown:
        raise InvalidInput(
            f"Unknown event type(s): {', '.join(map(str, unknown))}; use "
            f"{', '.join(EVENT_TYPE_CHOICES)}.",
            details={"events": [f"Unknown: {e}" for e in unknown]},
        )
    return events


def _full_clean(webhook: Webhook) -> None:
    try:
        webhook.full_clean(exclude=["project", "created_by"])
    except ValidationError as exc:
        raise InvalidInput(
            "Invalid webhook — "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            details=exc.message_dict,
        ) from exc


def _state(webhook: Webhook) -> dict:
    """What events record of a webhook: its URL's origin only, never its path or query."""
    return {"url": webhook.origin, "events": webhook.events, "active": webhook.active}


def _event(actor, webhook: Webhook, verb: str, before=None, after=None, cause=None) -> Event:
    return record_event(
        actor=actor,
        verb=verb,
        object_type="webhook",
        object_id=webhook.pk,
        object_repr=str(webhook)[:300],
        project_id=webhook.project_id,
        before=before,
        after=after,
        cause=cause,
    )


@transaction.atomic
def webhook_create(*, actor, project: Project, url: str, events=None, secret: str = "") -> Webhook:
    _require_lead(actor, project)
    webhook = Webhook(
        project=project,
        url=_clean_url(url),
        events=_clean_events(events),
        secret=_clean_secret(secret) if (secret or "").strip() else new_secret(),
        created_by=actor,
    )
    _full_clean(webhook)
    webhook.save()
    _event(actor, webhook, "webhook.created", after=_state(webhook))
    return webhook


@transaction.atomic
def webhook_update(
    *,
    actor,
    webhook: Webhook,
    url: str | None = None,
    events=None,
    active: bool | None = None,
    secret: str | None = None,
) -> Webhook:
    _require_lead(actor, webhook.project)
    webhook = Webhook.objects.select_for_update().select_related("project").get(pk=webhook.pk)
    before, old_url = _state(webhook), webhook.url
    if url is not None:
        webhook.url = _clean_url(url)
    if events is not None:
        webhook.events = _clean_events(events)
    if active is not None:
        if active and not webhook.active:
            webhook.failure_count = 0
            webhook.disabled_reason = ""
        webhook.active = bool(active)
    rotated = bool(secret and secret.strip())
    if rotated:
        webhook.secret = _clean_secret(secret)
    _full_clean(webhook)
    after, url_changed = _state(webhook), webhook.url != old_url
    if after == before and not rotated and not url_changed:
        return webhook
    webhook.updated_at = timezone.now()
    webhook.save()
    _event(
        actor,
        webhook,
        "webhook.updated",
        before=before,
        after={**after, "url_changed": url_changed, "secret_rotated": rotated},
    )
    return webhook


@transaction.atomic
def webhook_delete(*, actor, webhook: Webhook) -> None:
    """Delete a webhook and its delivery log. Attempts in flight or scheduled end quietly."""
    _require_lead(actor, webhook.project)
    _event(actor, webhook, "webhook.deleted", before=_state(webhook))
    webhook.delete()


@transaction.atomic
def delivery_redeliver(*, actor, delivery: Delivery) -> Delivery:
    """Send a delivery again (a new row, attempt 1) with the same id and the same body, whatever
    happened to it and to its review since."""
    webhook = delivery.webhook
    _require_lead(actor, webhook.project)
    again = Delivery.objects.create(
        webhook=webhook,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        guid=delivery.guid,
        payload=delivery.payload or _body(_payload(delivery.event, delivery.event_type), delivery),
        next_attempt_at=timezone.now(),
    )
    _event(
        actor,
        webhook,
        "webhook.redelivered",
        after={"delivery": again.pk, "of": delivery.pk, "event": delivery.event_id},
    )
    transaction.on_commit(lambda: _enqueue(again.pk))
    return again


# --- the outbox (an in-transaction audit subscriber) ----------------------------------------


def on_event(event: Event) -> None:
    """Called inside the transaction that records ``event``: a delivery per matching webhook,
    with the body as things stand now; the tasks are queued once the transaction commits."""
    event_type = EVENT_TYPES.get(event.verb)
    if event_type is None or event.project_id is None:
        return
    webhooks = [
        w
        for w in Webhook.objects.filter(project_id=event.project_id, active=True).only(
            "pk", "events"
        )
        if w.wants(event_type)
    ]
    if not webhooks:
        return
    try:
        payload = _payload(event, event_type)
    except DatabaseError:
        raise
    except Exception:  # a bug in building a body must not block the change that caused it
        logger.exception("could not build the webhook payload of event %s", event.pk)
        return
    now = timezone.now()
    deliveries = []
    for webhook in webhooks:
        delivery = Delivery(
            webhook=webhook, event=event, event_type=event_type, next_attempt_at=now
        )
        delivery.payload = _body(payload, delivery)
        deliveries.append(delivery)
    Delivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: [_enqueue(pk) for pk in ids])


def _enqueue(delivery_id: int, run_after=None) -> None:
    from webhooks.tasks import deliver

    try:
        if run_after is None:
            deliver.enqueue(delivery_id)
        elif deliver.get_backend().supports_defer:
            deliver.using(run_after=run_after).enqueue(delivery_id)
        # Otherwise (e.g. the immediate backend) the row waits with ``next_attempt_at`` for
        # ``deliver_due`` (``manage.py deliver_webhooks``).
    except Exception:
        logger.exception("could not enqueue webhook delivery %s", delivery_id)


def _claimable(now):
    """Pending deliveries nobody holds: never claimed, or their claim's lease has run out (a
    claim without a lease was made before leases existed: its worker is long gone)."""
    return Delivery.objects.filter(status=DeliveryStatus.PENDING).filter(
        Q(attempted_at__isnull=True)
        | Q(lease_expires_at__isnull=True)
        | Q(lease_expires_at__lt=now)
    )


def deliver_due(now=None) -> int:
    """Attempt every pending delivery whose time has come, including those whose worker died
    mid-attempt (expired lease). Returns how many were attempted."""
    now = now or timezone.now()
    due = (
        _claimable(now)
        .filter(next_attempt_at__lte=now, webhook__active=True)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    count = 0
    for pk in list(due):
        if attempt_delivery(pk, now=now) is not None:
            count += 1
    return count


# --- one attempt ---------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Specgate-Signature``: HMAC-SHA256 of ``"<timestamp>.<body>"``, key the secret's
    UTF-8 bytes."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def standard_signer(secret: str) -> standardwebhooks.Webhook:
    """The Standard Webhooks key: the base64 after ``whsec_``, or the raw bytes of any other
    secret — exactly what ``standardwebhooks.Webhook(secret)`` (resp. ``Webhook(secret.encode())``)
    gives a receiver."""
    if secret.startswith(SECRET_PREFIX):
        return standardwebhooks.Webhook(secret)
    return standardwebhooks.Webhook(secret.encode("utf-8"))


def headers_for(delivery: Delivery, secret: str, body: bytes, when: datetime) -> dict:
    timestamp = str(int(when.timestamp()))
    msg_id = str(delivery.guid)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Specgate-Event": delivery.event_type,
        "X-Specgate-Delivery": msg_id,
        "X-Specgate-Timestamp": timestamp,
        "X-Specgate-Signature": sign(secret, timestamp, body),
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": standard_signer(secret).sign(msg_id, when, body),
    }


def _payload(event: Event, event_type: str) -> dict:
    """The body of an event's deliveries, from the database as it stands (inside the event's
    transaction: the state the event describes)."""
    project = Project.objects.filter(pk=event.project_id).values_list("slug", flat=True).first()
    obj = {
        "type": event.object_type,
        "id": event.object_id,
        "repr": event.object_repr,
        "before": event.before,
        "after": event.after,
    }
    review = None
    if event.review_id:
        review = (
            Review.objects.filter(pk=event.review_id)
            .values("id", "state", "spec_id", "spec__title", "spec__revision_label")
            .first()
        )
    return {
        "id": event.pk,
        "type": event_type,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_label if event.actor_id else None,
        "project": project,
        "review": (
            {
                "id": review["id"],
                "state": review["state"],
                "spec": review["spec_id"],
                "spec_title": review["spec__title"],
                "revision": review["spec__revision_label"],
            }
            if review
            else None
        ),
        "cause": event.cause_id,
        "object": obj,
    }


def _body(payload: dict, delivery: Delivery) -> str:
    return json.dumps(
        {**payload, "delivery": str(delivery.guid)},
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )


def _claim(delivery_id: int, now) -> bool:
    """Claim a delivery for one attempt, with a lease. With a backend that can defer, the
    follow-up that takes over if this worker dies is queued in the same transaction."""
    with transaction.atomic():
        claimed = (
            _claimable(now)
            .filter(pk=delivery_id)
            .update(attempted_at=now, lease_expires_at=now + lease())
        )
        if claimed:
            _enqueue(delivery_id, run_after=now + lease() + timedelta(seconds=1))
    return bool(claimed)


def attempt_delivery(delivery_id: int, now=None) -> Delivery | None:
    """Make one attempt (claimed so that one worker at a time makes it), log it and schedule
    the next. None if there was nothing to do (done, held by another worker, or deleted)."""
    now = now or timezone.now()
    was_claimed = Delivery.objects.filter(pk=delivery_id, attempted_at__isnull=False).exists()
    if not _claim(delivery_id, now):
        return None
    if was_claimed:
        logger.warning("webhook delivery %s: its claim expired; attempting it again", delivery_id)
    delivery = Delivery.objects.select_related("webhook", "event").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    webhook = delivery.webhook
    mine = Delivery.objects.filter(pk=delivery_id, attempted_at=now)
    if not webhook.active:
        mine.update(status=DeliveryStatus.FAILED, error="The webhook is disabled.")
        delivery.status = DeliveryStatus.FAILED
        return delivery
    # Rows queued before payloads were frozen carry none: built now, once, and kept.
    body_text = delivery.payload or _body(_payload(delivery.event, delivery.event_type), delivery)
    body = body_text.encode("utf-8")
    started = time.monotonic()
    try:
        target = net.check(webhook.url)
    except net.Refused as exc:
        answer = net.Answer(None, "", f"Refused: {exc}.", False)
    else:
        answer = net.post(target, body, headers_for(delivery, webhook.secret, body, _now()))
    ok = answer.status_code is not None and 200 <= answer.status_code < 300
    result = {
        "payload": body_text,
        "status": DeliveryStatus.SUCCEEDED if ok else DeliveryStatus.FAILED,
        "status_code": answer.status_code,
        "duration_ms": int((time.monotonic() - started) * 1000) if answer.connected else None,
        "response_excerpt": answer.excerpt,
        "error": answer.error,
        "delivered_at": timezone.now() if ok else None,
        "lease_expires_at": None,
    }
    if not mine.update(**result):
        return None  # deleted meanwhile, or taken over after the lease ran out: nothing to log
    for field, value in result.items():
        setattr(delivery, field, value)
    if ok:
        Webhook.objects.filter(pk=webhook.pk).update(failure_count=0)
    else:
        _after_failure(delivery)
    return delivery


def _now() -> datetime:
    return datetime.now(UTC)


def _after_failure(delivery: Delivery) -> None:
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().filter(pk=delivery.webhook_id).first()
        if webhook is None:
            return  # deleted while the attempt ran
        webhook.failure_count += 1
        webhook.save(update_fields=["failure_count"])
        if webhook.active and webhook.failure_count >= disable_after():
            webhook.active = False
            webhook.disabled_reason = (
                f"Disabled after {webhook.failure_count} consecutive failed deliveries."
            )
            webhook.save(update_fields=["active", "disabled_reason"])
            _event(
                None,
                webhook,
                "webhook.disabled",
                before={"active": True},
                after={"active": False, "reason": webhook.disabled_reason},
                cause=delivery.event,
            )
            logger.warning("webhook %s disabled", webhook.pk)
            return
        if delivery.attempt >= max_attempts() or not webhook.active:
            return
        when = timezone.now() + backoff(delivery.attempt)
        retry = Delivery.objects.create(
            webhook=webhook,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            guid=delivery.guid,
            payload=delivery.payload,
            attempt=delivery.attempt + 1,
            next_attempt_at=when,
        )
        transaction.on_commit(lambda: _enqueue(retry.pk, run_after=when))
