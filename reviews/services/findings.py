"""Findings: raised by reviewers and leads, resolved or won't-fixed with a note, reopened."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, InvalidInput, NotFound
from reviews.models import Finding, FindingSeverity, FindingStatus, Response
from reviews.permissions import can_raise_finding, can_resolve_finding, require
from reviews.services._common import content_changed, lock_review, review_event

FINDING_FIELDS = ("severity", "title", "location", "impact", "recommendation", "verification")


def finding_state(finding: Finding) -> dict:
    state = {field: getattr(finding, field) for field in FINDING_FIELDS}
    state.update(
        id=finding.pk,
        status=finding.status,
        item=finding.item_id,
        resolution_note=finding.resolution_note,
        version=finding.version,
    )
    return state


def _full_clean(finding: Finding) -> None:
    try:
        finding.full_clean(exclude=["review", "raised_by", "item", "resolved_by"])
    except ValidationError as exc:
        raise InvalidInput(
            "Invalid finding — "
            + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            details=exc.message_dict,
        ) from exc


def _writable(review) -> None:
    if review.is_read_only:
        raise Conflict(
            f"The review is {review.get_state_display().lower()}: findings are read-only.",
            code="read_only",
        )


@transaction.atomic
def finding_raise(
    *,
    actor,
    review,
    severity: str,
    title: str,
    location: str = "",
    impact: str = "",
    recommendation: str = "",
    verification: str = "",
    item_id: int | None = None,
) -> Finding:
    review = lock_review(review.pk)
    require(
        can_raise_finding(actor, review),
        actor,
        review.spec.project_id,
        "Only reviewers and leads raise findings.",
        "review",
    )
    _writable(review)
    if severity not in FindingSeverity.values:
        raise InvalidInput(
            f"Unknown severity {severity!r}; use one of {', '.join(FindingSeverity.values)}.",
            details={"severity": [f"Choose one of {', '.join(FindingSeverity.values)}."]},
        )
    if item_id is not None and not Response.objects.filter(review=review, item_id=item_id).exists():
        raise InvalidInput(
            f"Item {item_id} is not part of this review.",
            details={"item": ["Not an item of this review."]},
        )
    finding = Finding(
        review=review,
        item_id=item_id,
        severity=severity,
        title=(title or "").strip(),
        location=location or "",
        impact=impact or "",
        recommendation=recommendation or "",
        verification=verification or "",
        raised_by=actor,
    )
    _full_clean(finding)
    finding.save()
    event = review_event(
        actor=actor, review=review, verb="finding.raised", obj=finding, after=finding_state(finding)
    )
    content_changed(review, cause=event, reason=f"finding #{finding.pk} raised")
    return finding


def _lock_finding(review, finding_id: int) -> Finding:
    try:
        return (
            Finding.objects.select_for_update(of=("self",))
            .select_related("review__spec__project")
            .get(pk=finding_id, review=review)
        )
    except Finding.DoesNotExist:
        raise NotFound("No such finding.") from None


def _check_version(finding: Finding, version: int | None) -> None:
    if version is not None and version != finding.version:
        raise Conflict(
            f"Finding #{finding.pk} was changed by someone else (you had version "
            f"{version}, it is now {finding.version}).",
            code="stale_version",
            details={"current": finding_state(finding)},
        )


def _save(actor, review, finding: Finding, verb: str, before: dict) -> Finding:
    finding.version += 1
    finding.updated_at = timezone.now()
    finding.save()
    event = review_event(
        actor=actor,
        review=review,
        verb=verb,
        obj=finding,
        before=before,
        after=finding_state(finding),
    )
    content_changed(review, cause=event, reason=f"finding #{finding.pk} {verb.split('.')[1]}")
    return finding


@transaction.atomic
def finding_update(
    *, actor, finding: Finding, changes: dict, version: int | None = None
) -> Finding:
    review = lock_review(finding.review_id)
    finding = _lock_finding(review, finding.pk)
    require(
        can_raise_finding(actor, review)
        and (finding.raised_by_id == actor.pk or can_resolve_finding(actor, finding)),
        actor,
        review.spec.project_id,
        "Only the reviewer who raised a finding, or a lead, edits it.",
        "finding",
    )
    _writable(review)
    _check_version(finding, version)
    before = finding_state(finding)
    unknown = set(changes) - set(FINDING_FIELDS)
    if unknown:
        raise InvalidInput(
            f"Cannot change {', '.join(sorted(unknown))} of a finding.",
            details={k: ["Not editable."] for k in unknown},
        )
    for field, value in changes.items():
        setattr(finding, field, (value or "").strip() if field == "title" else (value or ""))
    if finding.severity not in FindingSeverity.values:
        raise InvalidInput(
            f"Unknown severity {finding.severity!r}.", details={"severity": ["Unknown."]}
        )
    _full_clean(finding)
    if finding_state(finding) == before:
        return finding
    return _save(actor, review, finding, "finding.updated", before)


@transaction.atomic
def finding_resolve(
    *,
    actor,
    finding: Finding,
    note: str,
    status: str = FindingStatus.RESOLVED,
    version: int | None = None,
) -> Finding:
    """open → resolved / won't fix, with a note."""
    review = lock_review(finding.review_id)
    finding = _lock_finding(review, finding.pk)
    require(
        can_resolve_finding(actor, finding),
        actor,
        review.spec.project_id,
        "Only the spec's author or a lead resolves a finding.",
        "finding",
    )
    _writable(review)
    _check_version(finding, version)
    if status not in (FindingStatus.RESOLVED, FindingStatus.WONT_FIX):
        raise InvalidInput("Resolve as 'resolved' or 'wont_fix'.", details={"status": ["Invalid."]})
    if finding.status != FindingStatus.OPEN:
        raise Conflict(
            f"Finding #{finding.pk} is already {finding.get_status_display().lower()}.",
            code="transition_refused",
        )
    if not (note or "").strip():
        raise InvalidInput("Resolving a finding needs a note.", details={"note": ["Required."]})
    before = finding_state(finding)
    finding.status = status
    finding.resolution_note = note.strip()
    finding.resolved_by = actor
    verb = "finding.resolved" if status == FindingStatus.RESOLVED else "finding.wont_fix"
    return _save(actor, review, finding, verb, before)


@transaction.atomic
def finding_reopen(
    *, actor, finding: Finding, note: str = "", version: int | None = None
) -> Finding:
    review = lock_review(finding.review_id)
    finding = _lock_finding(review, finding.pk)
    require(
        can_raise_finding(actor, review) or can_resolve_finding(actor, finding),
        actor,
        review.spec.project_id,
        "Only reviewers, leads and the author reopen findings.",
        "finding",
    )
    _writable(review)
    _check_version(finding, version)
    if finding.status == FindingStatus.OPEN:
        raise Conflict(f"Finding #{finding.pk} is already open.", code="transition_refused")
    before = finding_state(finding)
    finding.status = FindingStatus.OPEN
    finding.resolution_note = (note or "").strip()
    finding.resolved_by = None
    return _save(actor, review, finding, "finding.reopened", before)
