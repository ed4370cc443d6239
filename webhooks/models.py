"""Webhook subscriptions of a project and the log of every delivery attempt."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from webhooks.net import origin

# Audit verbs → the event types a webhook subscribes to.
EVENT_TYPES = {
    "review.submit": "review.submitted",
    "review.request_changes": "review.changes_requested",
    "review.approve": "review.approved",
    "review.reopen": "review.reopened",
    "review.withdraw": "review.withdrawn",
    "finding.raised": "finding.raised",
    "finding.resolved": "finding.resolved",
    "finding.wont_fix": "finding.resolved",
    "signoff.created": "signoff.created",
    "signoff.stale": "signoff.stale",
}
EVENT_TYPE_CHOICES = sorted(set(EVENT_TYPES.values()))


class Webhook(models.Model):
    project = models.ForeignKey(
        "reviews.Project", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=128)
    events = models.JSONField(
        default=list, blank=True, help_text="Event types to send; empty: all of them."
    )
    active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(
        default=0, help_text="Consecutive failed attempts; reset by a success."
    )
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "id"]

    def __str__(self) -> str:
        return f"{self.project} → {self.origin}"

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``: the URL as events, logs and lists may show it (its path and
        query are often a credential)."""
        return origin(self.url)

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One attempt to deliver one event to one webhook. Retries and redeliveries are new rows
    sharing ``guid`` (sent as ``webhook-id`` and ``X-Specgate-Delivery`` and inside the body, so
    receivers can drop duplicates) and ``payload``: the exact body, frozen when the event
    happened.

    An attempt claims its row (``attempted_at``) for a lease (``lease_expires_at``); a worker
    that dies mid-attempt leaves the claim to expire, and the row is attempted again."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("audit.Event", on_delete=models.PROTECT, related_name="+")
    event_type = models.CharField(max_length=64)
    guid = models.UUIDField(default=uuid.uuid4, db_index=True)
    payload = models.TextField(blank=True, help_text="The JSON body, as sent (and signed).")
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} → webhook {self.webhook_id} (attempt {self.attempt})"
