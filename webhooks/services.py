"""Webhook subscriptions (managed by project leads) and signed deliveries.

Every audit event (after commit) is matched against the active webhooks of its project; each
match becomes a ``Delivery`` row and a background task. A delivery POSTs JSON
``{"id", "type", "created_at", "object", …}`` signed with HMAC-SHA256 over
``"<timestamp>.<body>"``. A failed attempt is logged and retried with exponential backoff (a
new ``Delivery`` row per attempt); after ``WEBHOOK_DISABLE_AFTER`` consecutive failures the
webhook is disabled.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Event
from audit.services import record_event
from config.errors import InvalidInput
from reviews.models import Project, Review
from reviews.permissions import can_change_project_settings, require
from webhooks.models import EVENT_TYPE_CHOICES, EVENT_TYPES, Delivery, DeliveryStatus, Webhook

logger = logging.getLogger("specgate.webhooks")

TIMEOUT_SECONDS = 5
EXCERPT_CHARS = 1000
USER_AGENT = "Specgate-Webhooks/1"


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 5))


def disable_after() -> int:
    return int(getattr(settings, "WEBHOOK_DISABLE_AFTER", 10))


def backoff(attempt: int) -> timedelta:
    """Delay before attempt ``attempt + 1``: 30 s, 2 min, 8 min, 32 min, … (capped at 6 h)."""
    base = int(getattr(settings, "WEBHOOK_BACKOFF_SECONDS", 30))
    return timedelta(seconds=min(base * 4 ** (attempt - 1), 6 * 3600))


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
    if urlsplit(url).scheme not in ("http", "https"):
        raise InvalidInput(
            "A webhook URL must start with http:// or https://.",
            details={"url": ["Use an http or https URL."]},
        )
    return url


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
    return {"url": webhook.url, "events": webhook.events, "active": webhook.active}


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
        secret=(secret or "").strip() or secrets.token_urlsafe(32),
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
    before = _state(webhook)
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
        webhook.secret = secret.strip()
    _full_clean(webhook)
    after = _state(webhook)
    if after == before and not rotated:
        return webhook
    webhook.updated_at = timezone.now()
    webhook.save()
    _event(
        actor, webhook, "webhook.updated", before=before, after={**after, "secret_rotated": rotated}
    )
    return webhook


@transaction.atomic
def webhook_delete(*, actor, webhook: Webhook) -> None:
    _require_lead(actor, webhook.project)
    _event(actor, webhook, "webhook.deleted", before=_state(webhook))
    webhook.delete()


@transaction.atomic
def delivery_redeliver(*, actor, delivery: Delivery) -> Delivery:
    """Send an event again (a new delivery, attempt 1), whatever happened to the old one."""
    webhook = delivery.webhook
    _require_lead(actor, webhook.project)
    again = Delivery.objects.create(
        webhook=webhook,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        next_attempt_at=timezone.now(),
    )
    _event(
        actor,
        webhook,
        "webhook.redelivered",
        after={"delivery": again.pk, "of": delivery.pk, "event": delivery.event_id},
    )
    transaction.on_commit(lambda: _enqueue(again))
    return again


# --- fan-out (the audit subscriber) -----------------------------------------------------------


def on_event(event: Event) -> None:
    """Called after commit for every new audit event: queue a delivery per matching webhook."""
    event_type = EVENT_TYPES.get(event.verb)
    if event_type is None or event.project_id is None:
        return
    try:
        webhooks = [
            w
            for w in Webhook.objects.filter(project_id=event.project_id, active=True)
            if w.wants(event_type)
        ]
        if not webhooks:
            return
        now = timezone.now()
        deliveries = Delivery.objects.bulk_create(
            Delivery(webhook=w, event=event, event_type=event_type, next_attempt_at=now)
            for w in webhooks
        )
    except Exception:  # a webhook must never break the change that caused it
        logger.exception("could not queue webhook deliveries for event %s", event.pk)
        return
    for delivery in deliveries:
        _enqueue(delivery)


def _enqueue(delivery: Delivery, run_after=None) -> None:
    from webhooks.tasks import deliver

    try:
        if run_after is None:
            deliver.enqueue(delivery.pk)
        elif deliver.get_backend().supports_defer:
            deliver.using(run_after=run_after).enqueue(delivery.pk)
        # Otherwise (e.g. the immediate backend) the row waits with ``next_attempt_at`` for
        # ``deliver_due`` (``manage.py deliver_webhooks``).
    except Exception:
        logger.exception("could not enqueue webhook delivery %s", delivery.pk)


def deliver_due(now=None) -> int:
    """Attempt every pending delivery whose time has come. Returns how many were attempted."""
    now = now or timezone.now()
    due = Delivery.objects.filter(
        status=DeliveryStatus.PENDING,
        attempted_at__isnull=True,
        next_attempt_at__lte=now,
        webhook__active=True,
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due):
        if attempt_delivery(pk) is not None:
            count += 1
    return count


# --- one attempt ---------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def build_payload(event: Event, event_type: str) -> dict:
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
        "actor": event.actor.email if event.actor_id else None,
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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is answered as a failure (its 3xx status is logged)


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """(status code, response excerpt, error)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            excerpt = response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")
            return response.status, excerpt[:EXCERPT_CHARS], ""
    except urllib.error.HTTPError as exc:
        try:
            excerpt = exc.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")
        except Exception:
            excerpt = ""
        return exc.code, excerpt[:EXCERPT_CHARS], f"HTTP {exc.code}"
    except Exception as exc:  # connection refused, timeout, TLS, bad URL …
        return None, "", f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]


def attempt_delivery(delivery_id: int) -> Delivery | None:
    """Make one attempt (claimed so that it runs once), log it and schedule the next."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempted_at__isnull=True
    ).update(attempted_at=now)
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("webhook", "event__actor").get(pk=delivery_id)
    webhook = delivery.webhook
    if not webhook.active:
        delivery.status = DeliveryStatus.FAILED
        delivery.error = "The webhook is disabled."
        delivery.save(update_fields=["status", "error"])
        return delivery
    body = json.dumps(
        build_payload(delivery.event, delivery.event_type),
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    ).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Specgate-Event": delivery.event_type,
        "X-Specgate-Delivery": str(delivery.guid),
        "X-Specgate-Timestamp": timestamp,
        "X-Specgate-Signature": sign(webhook.secret, timestamp, body),
    }
    started = time.monotonic()
    status_code, excerpt, error = _post(webhook.url, body, headers)
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.status_code = status_code
    delivery.response_excerpt = excerpt
    delivery.error = error
    ok = status_code is not None and 200 <= status_code < 300
    if ok:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = timezone.now()
        delivery.save()
        Webhook.objects.filter(pk=webhook.pk).update(failure_count=0)
        return delivery
    delivery.status = DeliveryStatus.FAILED
    delivery.save()
    _after_failure(delivery, webhook)
    return delivery


def _after_failure(delivery: Delivery, webhook: Webhook) -> None:
    with transaction.atomic():
        Webhook.objects.filter(pk=webhook.pk).update(failure_count=F("failure_count") + 1)
        webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
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
            attempt=delivery.attempt + 1,
            next_attempt_at=when,
        )
        transaction.on_commit(lambda: _enqueue(retry, run_after=when))
