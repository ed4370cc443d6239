"""Shared steps of every review service: locking, events, content changes, stale sign-offs."""

import hashlib
import json

from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Event
from audit.services import record_event
from config.errors import NotFound
from reviews.models import Response, Review, SignOff, Verdict

# The Review field that counts the answers of each verdict.
ANSWER_COUNTERS = {verdict: f"answers_{verdict}" for verdict in Verdict.values}


def lock_review(review_id: int) -> Review:
    """Lock the review row for the rest of the transaction (PostgreSQL ``FOR UPDATE``;
    SQLite serialises writers with IMMEDIATE transactions)."""
    try:
        return (
            Review.objects.select_for_update(of=("self",))
            .select_related("spec__project")
            .get(pk=review_id)
        )
    except Review.DoesNotExist:
        raise NotFound("No such review.") from None


def review_event(
    *,
    actor,
    review: Review,
    verb: str,
    obj=None,
    object_type: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    cause: Event | None = None,
) -> Event:
    target = obj if obj is not None else review
    return record_event(
        actor=actor,
        verb=verb,
        object_type=object_type or target._meta.model_name,
        object_id=target.pk,
        object_repr=str(target),
        project_id=review.spec.project_id,
        review_id=review.pk,
        before=before,
        after=after,
        cause=cause,
    )


def content_digest(review: Review) -> str:
    """Hash of the spec revision, the template versions, every response and every open
    finding — what a sign-off covered."""
    hasher = hashlib.sha256()
    spec = review.spec
    head = {
        "spec": spec.pk,
        "revision": [spec.revision_number, spec.revision_label],
        "templates": sorted(review.review_templates.values_list("version_id", flat=True)),
    }
    hasher.update(json.dumps(head, sort_keys=True).encode())
    for row in (
        Response.objects.filter(review=review)
        .order_by("item_id")
        .values_list("item_id", "verdict", "note")
        .iterator(chunk_size=2000)
    ):
        hasher.update(json.dumps(row).encode())
    for row in (
        review.findings.filter(status="open")
        .order_by("id")
        .values_list("id", "severity", "title", "location", "impact", "recommendation")
    ):
        hasher.update(json.dumps(row).encode())
    return hasher.hexdigest()


def progress_refresh(review_ids) -> None:
    """Recount the answers of these reviews into their per-verdict counters, in one UPDATE.
    Every service that creates, deletes or bulk-changes answers calls it."""

    def count(verdict: str):
        answers = (
            Response.objects.filter(review_id=OuterRef("pk"), verdict=verdict)
            .order_by()
            .values("review_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(answers), 0)

    Review.objects.filter(pk__in=list(review_ids)).update(
        **{field: count(verdict) for verdict, field in ANSWER_COUNTERS.items()}
    )


def content_changed(
    review: Review, *, cause: Event, reason: str, verdict_change: tuple[str, str] | None = None
) -> list[SignOff]:
    """Record that the reviewed content moved: overrides lapse, sign-offs go stale.
    ``verdict_change`` (before, after) moves one answer between the verdict counters in the
    same UPDATE.

    Stale marks are written by the system, naming the event that caused them."""
    counters = {}
    if verdict_change and verdict_change[0] != verdict_change[1]:
        before, after = (ANSWER_COUNTERS[v] for v in verdict_change)
        counters = {before: F(before) - 1, after: F(after) + 1}
    Review.objects.filter(pk=review.pk).update(
        content_version=F("content_version") + 1, updated_at=timezone.now(), **counters
    )
    review.content_version += 1
    current = list(SignOff.objects.filter(review=review, stale=False).select_related("user"))
    if not current:
        return []
    for signoff in current:
        stale_event = review_event(
            actor=None,
            review=review,
            verb="signoff.stale",
            obj=signoff,
            before={"stale": False},
            after={"stale": True, "reason": reason},
            cause=cause,
        )
        signoff.stale = True
        signoff.stale_reason = reason[:300]
        signoff.stale_event_id = stale_event.pk
    SignOff.objects.bulk_update(current, ["stale", "stale_reason", "stale_event_id"])
    from reviews.notifications import notify_stale_signoffs

    transaction.on_commit(lambda: notify_stale_signoffs([s.pk for s in current]))
    return current
