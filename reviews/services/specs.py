"""Specs and their revisions. A new revision sends reviews back to in_review."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import record_event
from config.errors import InvalidInput
from reviews.models import Project, Response, Review, ReviewState, Spec, SpecRevision, Verdict
from reviews.permissions import can_create_spec, can_post_revision, require
from reviews.services._common import content_changed, progress_refresh, review_event


def _validate(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise InvalidInput(
            "Invalid input — "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            details=exc.message_dict,
        ) from exc


@transaction.atomic
def spec_create(
    *,
    actor,
    project: Project,
    title: str,
    link: str = "",
    description: str = "",
    revision_label: str = "r1",
) -> Spec:
    require(
        can_create_spec(actor, project),
        actor,
        project.pk,
        "Only authors and leads create specs in this project.",
        "project",
    )
    spec = Spec(
        project=project,
        title=(title or "").strip(),
        link=(link or "").strip(),
        description=description or "",
        author=actor,
        revision_label=(revision_label or "r1").strip(),
        revision_number=1,
    )
    _validate(spec)
    spec.save()
    revision = SpecRevision(
        spec=spec,
        number=1,
        label=spec.revision_label,
        link=spec.link,
        note="First revision.",
        posted_by=actor,
    )
    revision.save()
    record_event(
        actor=actor,
        verb="spec.created",
        object_type="spec",
        object_id=spec.pk,
        object_repr=spec.title,
        project_id=project.pk,
        after={"title": spec.title, "link": spec.link, "revision": spec.revision_label},
    )
    return spec


@transaction.atomic
def spec_post_revision(
    *, actor, spec: Spec, label: str, link: str = "", note: str = ""
) -> tuple[SpecRevision, bool]:
    """Post a new revision. Approved and changes-requested reviews go back to in_review,
    sign-offs go stale, and failed answers go back to re-check (passes are kept). Posting the
    current revision again changes nothing. Returns (revision, created)."""
    require(
        can_post_revision(actor, spec),
        actor,
        spec.project_id,
        "Only the spec's author or a lead posts revisions.",
        "spec",
    )
    spec = Spec.objects.select_for_update().get(pk=spec.pk)
    label = (label or "").strip()
    link = (link or "").strip() or spec.link
    if not label:
        raise InvalidInput(
            "A revision needs a label.", details={"label": ["This field is required."]}
        )
    if label == spec.revision_label and link == spec.link:
        return spec.revisions.order_by("-number").first(), False
    # The lock order (see the package's docstring): spec, then its reviews by id, then the
    # audit chain (record_event) last.
    reviews = list(
        Review.objects.select_for_update(of=("self",))
        .select_related("spec__project")
        .filter(spec=spec)
        .exclude(state=ReviewState.WITHDRAWN)
        .order_by("pk")
    )
    revision = SpecRevision(
        spec=spec,
        number=spec.revision_number + 1,
        label=label,
        link=link,
        note=note or "",
        posted_by=actor,
    )
    _validate(revision, exclude=["spec", "posted_by"])
    revision.save()
    before = {"revision": spec.revision_label, "link": spec.link}
    spec.revision_label, spec.revision_number, spec.link = label, revision.number, link
    spec.save(update_fields=["revision_label", "revision_number", "link"])
    event = record_event(
        actor=actor,
        verb="spec.revision_posted",
        object_type="spec",
        object_id=spec.pk,
        object_repr=spec.title,
        project_id=spec.project_id,
        before=before,
        after={"revision": label, "link": link, "note": note},
    )
    for review in reviews:
        _apply_revision(review, revision, event)
    return revision, True


def _apply_revision(review: Review, revision: SpecRevision, cause) -> None:
    """Failed answers go back to re-check, done by the system in the revision's name (never
    credited to whoever answered them last); a closed-for-changes review reopens; sign-offs go
    stale."""
    now = timezone.now()
    reason = f"revision {revision.label}"
    failed = list(Response.objects.filter(review=review, verdict=Verdict.FAIL))
    for response in failed:
        response.verdict = Verdict.UNANSWERED
        response.needs_recheck = True
        response.version += 1
        response.answered_by = None
        response.answered_at = now
        response.reset_reason = reason[:300]
    Response.objects.bulk_update(
        failed,
        ["verdict", "needs_recheck", "version", "answered_by", "answered_at", "reset_reason"],
    )
    if failed:
        progress_refresh([review.pk])
    if failed:
        review_event(
            actor=None,
            review=review,
            verb="responses.recheck",
            cause=cause,
            before={"fail": len(failed)},
            after={"recheck": [r.item_id for r in failed], "reason": reason},
        )
    if review.state in (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED):
        before = review.state
        review.state = ReviewState.IN_REVIEW
        review.approved_at = None
        review.save(update_fields=["state", "approved_at"])
        review_event(
            actor=None,
            review=review,
            verb="review.state_reset",
            cause=cause,
            before={"state": before},
            after={"state": review.state, "revision": revision.label, "reason": reason},
        )
    content_changed(review, cause=cause, reason=f"spec revision {revision.label} posted")
