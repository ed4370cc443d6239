"""Reviews: creation, reviewer assignment, the state transitions, sign-offs and overrides.

Every transition reads the same: lock the row, ask the guard (which says why not), set the
state in one place, write the audit event, return the review.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from checklists.models import Item, Section, TemplateVersion, VersionStatus
from config.errors import Conflict, Forbidden, InvalidInput
from reviews import permissions as perms
from reviews.gate import active_overrides, evaluate_gate, spec_authors
from reviews.models import (
    OVERRIDABLE_RULES,
    Assignment,
    Decision,
    GateRule,
    Membership,
    Override,
    Response,
    Review,
    ReviewState,
    ReviewTemplate,
    Role,
    SignOff,
    SignOffRole,
    Spec,
)
from reviews.notifications import notify_approved, notify_assignment, notify_changes_requested
from reviews.selectors import review_progress
from reviews.services._common import (
    content_changed,
    content_digest,
    lock_review,
    progress_refresh,
    review_event,
)

S = ReviewState


# --- creation and assignment ---------------------------------------------------------------


def _reviewer_users(project_id: int, emails: list[str]):
    User = get_user_model()
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    users = list(User.objects.filter(email__in=wanted, is_active=True))
    missing = wanted - {u.email for u in users}
    if missing:
        raise InvalidInput(
            f"Unknown user(s): {', '.join(sorted(missing))}.",
            details={"reviewers": [f"Unknown user {m}." for m in sorted(missing)]},
        )
    roles = dict(
        Membership.objects.filter(project_id=project_id, user__in=users).values_list(
            "user_id", "role"
        )
    )
    not_reviewers = [u.email for u in users if roles.get(u.pk) not in (Role.REVIEWER, Role.LEAD)]
    if not_reviewers:
        raise InvalidInput(
            f"Not a reviewer or lead in this project: {', '.join(sorted(not_reviewers))}.",
            details={
                "reviewers": [f"{e} is not a reviewer in this project." for e in not_reviewers]
            },
        )
    return users


@transaction.atomic
def review_create(
    *,
    actor,
    spec: Spec,
    template_version_ids: list[int],
    reviewers: list[str] | None = None,
    due_date: date | None = None,
) -> Review:
    """Create a review from published template versions, with a response row per item."""
    perms.require(
        perms.can_create_review(actor, spec),
        actor,
        spec.project_id,
        "Only authors and leads create reviews in this project.",
        "spec",
    )
    ids = list(dict.fromkeys(template_version_ids or []))
    if not ids:
        raise InvalidInput(
            "Choose at least one published checklist version.",
            details={"template_versions": ["At least one is required."]},
        )
    versions = {
        v.pk: v for v in TemplateVersion.objects.filter(pk__in=ids).select_related("template")
    }
    problems = []
    for vid in ids:
        version = versions.get(vid)
        if version is None:
            problems.append(f"Checklist version {vid} does not exist.")
        elif version.status != VersionStatus.PUBLISHED:
            problems.append(f"{version} is not published.")
    templates = [versions[v].template_id for v in ids if v in versions]
    if len(set(templates)) != len(templates):
        problems.append("Two versions of the same checklist cannot be in one review.")
    if problems:
        raise InvalidInput(" ".join(problems), details={"template_versions": problems})
    users = _reviewer_users(spec.project_id, reviewers or [])
    item_ids = list(Item.objects.filter(version_id__in=ids).values_list("pk", flat=True))
    review = Review.objects.create(
        spec=spec, created_by=actor, due_date=due_date, answers_unanswered=len(item_ids)
    )
    ReviewTemplate.objects.bulk_create(
        ReviewTemplate(review=review, version_id=vid, position=i) for i, vid in enumerate(ids)
    )
    Response.objects.bulk_create(
        (Response(review=review, item_id=item_id) for item_id in item_ids), batch_size=500
    )
    Assignment.objects.bulk_create(
        Assignment(review=review, user=u, assigned_by=actor) for u in users
    )
    review_event(
        actor=actor,
        review=review,
        verb="review.created",
        after={
            "state": review.state,
            "template_versions": ids,
            "reviewers": sorted(u.email for u in users),
            "due_date": due_date.isoformat() if due_date else None,
        },
    )
    if users:
        transaction.on_commit(lambda: notify_assignment(review, [u.email for u in users]))
    return review


@transaction.atomic
def review_assign(
    *, actor, review: Review, email: str, section_id: int | None = None
) -> Assignment:
    review = lock_review(review.pk)
    perms.require(
        perms.can_assign(actor, review),
        actor,
        review.spec.project_id,
        "Only leads assign reviewers.",
        "review",
    )
    if review.is_read_only:
        raise Conflict("The review is closed: assignments cannot change.", code="read_only")
    (user,) = _reviewer_users(review.spec.project_id, [email])
    if (
        section_id is not None
        and not Section.objects.filter(
            pk=section_id, version__in=review.review_templates.values("version_id")
        ).exists()
    ):
        raise InvalidInput(
            f"Section {section_id} is not part of this review.",
            details={"section": ["Not in this review."]},
        )
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                review=review, user=user, section_id=section_id, assigned_by=actor
            )
    except IntegrityError:
        raise Conflict(f"{user.email} is already assigned there.") from None
    review_event(
        actor=actor,
        review=review,
        verb="review.reviewer_assigned",
        obj=assignment,
        object_type="assignment",
        after={"user": user.email, "section": section_id},
    )
    transaction.on_commit(lambda: notify_assignment(review, [user.email]))
    return assignment


@transaction.atomic
def review_unassign(*, actor, review: Review, email: str, section_id: int | None = None) -> None:
    review = lock_review(review.pk)
    perms.require(
        perms.can_assign(actor, review),
        actor,
        review.spec.project_id,
        "Only leads assign reviewers.",
        "review",
    )
    deleted = Assignment.objects.filter(
        review=review, user__email=email.lower(), section_id=section_id
    )
    assignment = deleted.first()
    if assignment is None:
        raise InvalidInput(f"{email} is not assigned there.", details={"user": ["Not assigned."]})
    assignment_id = assignment.pk
    assignment.delete()  # rows first, the audit chain last (the lock order)
    assignment.pk = assignment_id
    review_event(
        actor=actor,
        review=review,
        verb="review.reviewer_unassigned",
        obj=assignment,
        object_type="assignment",
        before={"user": email, "section": section_id},
    )


# --- guards --------------------------------------------------------------------------------


@dataclass
class Action:
    name: str
    label: str
    permitted: Callable
    permission_message: str
    sources: tuple
    target: str | None


ACTIONS = {
    "submit": Action(
        "submit",
        "Submit for review",
        perms.can_submit,
        "Only the spec's author, the review's creator or a lead submits it.",
        (S.DRAFT, S.CHANGES_REQUESTED),
        S.IN_REVIEW,
    ),
    "request_changes": Action(
        "request_changes",
        "Request changes",
        perms.can_request_changes,
        "Only leads request changes.",
        (S.IN_REVIEW,),
        S.CHANGES_REQUESTED,
    ),
    "approve": Action(
        "approve",
        "Approve: ready for development",
        perms.can_approve,
        "Only leads approve.",
        (S.IN_REVIEW,),
        S.APPROVED,
    ),
    "reopen": Action(
        "reopen",
        "Reopen",
        perms.can_reopen,
        "Only leads reopen an approved review.",
        (S.APPROVED,),
        S.IN_REVIEW,
    ),
    "withdraw": Action(
        "withdraw",
        "Withdraw",
        perms.can_withdraw,
        "Only the spec's author, the review's creator or a lead withdraws it.",
        (S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED),
        S.WITHDRAWN,
    ),
    "signoff": Action(
        "signoff",
        "Sign off as reviewer",
        perms.can_sign_off,
        "Only reviewers and leads sign off.",
        (S.IN_REVIEW,),
        None,
    ),
    "override": Action(
        "override",
        "Override a rule",
        perms.can_override,
        "Only a lead with the override permission overrides a rule.",
        (S.IN_REVIEW,),
        None,
    ),
}


def _state_reason(action: Action, review: Review) -> str | None:
    if review.state in action.sources:
        return None
    allowed = " or ".join(str(S(s).label).lower() for s in action.sources)
    return (
        f"The review is {review.get_state_display().lower()}; "
        f"{action.label.split(':')[0].lower()} needs it {allowed}."
    )


def why_not(action_name: str, review: Review, user, *, gate=None) -> list[str]:
    """Every reason ``user`` may not do ``action_name`` now; empty when allowed."""
    action = ACTIONS[action_name]
    reasons = []
    if not action.permitted(user, review):
        reasons.append(action.permission_message)
    state_reason = _state_reason(action, review)
    if state_reason:
        reasons.append(state_reason)
    if reasons:
        return reasons
    if action_name == "approve":
        result = gate or evaluate_gate(review, user)
        reasons.extend(f"{rule.title}: {rule.message}" for rule in result.unsatisfied())
    elif action_name == "signoff":
        # The gate's evaluation already read the authors and the current sign-offs.
        data = gate.data if gate is not None and gate.data is not None else None
        authors = data.authors() if data is not None else spec_authors(review)
        if user.pk in authors:
            reasons.append(
                "You wrote this spec or posted a revision of it: you cannot sign it off."
            )
        elif (
            data.has_current_reviewer_signoff(user.pk)
            if data is not None
            else SignOff.objects.filter(
                review=review, user=user, role=SignOffRole.REVIEWER, stale=False
            ).exists()
        ):
            reasons.append("You have already signed off the current content.")
    return reasons


def available_actions(review: Review, user) -> dict[str, list[str]]:
    gate = evaluate_gate(review, user)
    return {name: why_not(name, review, user, gate=gate) for name in ACTIONS}


# --- transitions ---------------------------------------------------------------------------


def _refuse(action_name: str, review: Review, user, reasons: list[str], gate=None):
    action = ACTIONS[action_name]
    if not action.permitted(user, review):
        raise Forbidden(reasons[0], details={"reasons": reasons})
    details = {"reasons": reasons, "state": review.state}
    if gate is not None:
        details.update(gate.as_dict())
    raise Conflict(
        f"Cannot {action.label.split(':')[0].lower()}: {reasons[0]}",
        code="gate_closed" if gate is not None else "transition_refused",
        details=details,
    )


def _transition(
    *,
    actor,
    review: Review,
    action_name: str,
    comment: str = "",
    after_extra: dict | None = None,
    warnings_seen: str | None = None,
) -> Review:
    review = lock_review(review.pk)
    perms.require_visible(actor, review.spec.project_id, "review")
    gate = evaluate_gate(review, actor) if action_name == "approve" else None
    reasons = why_not(action_name, review, actor, gate=gate)
    if reasons:
        _refuse(action_name, review, actor, reasons, gate if gate and not gate.ready else None)
    if gate is not None and warnings_seen is not None:
        _require_warnings_seen(gate, warnings_seen)
    action = ACTIONS[action_name]
    before = review.state
    now = timezone.now()
    review.state = action.target
    review.updated_at = now
    if action.target == S.IN_REVIEW and before == S.DRAFT:
        review.submitted_at = now
    review.approved_at = now if action.target == S.APPROVED else None
    review.save(update_fields=["state", "updated_at", "submitted_at", "approved_at"])
    after = {"state": review.state, **(after_extra or {})}
    if comment:
        after["comment"] = comment
    if gate is not None:
        after["gate"] = gate.as_dict()  # the approval record: the gate as it stood
        review.approval_gate = gate
    review_event(
        actor=actor,
        review=review,
        verb=f"review.{action_name}",
        before={"state": before},
        after=after,
    )
    return review


@transaction.atomic
def review_submit(*, actor, review: Review, comment: str = "") -> Review:
    return _transition(actor=actor, review=review, action_name="submit", comment=comment)


@transaction.atomic
def review_withdraw(*, actor, review: Review, reason: str = "") -> Review:
    return _transition(actor=actor, review=review, action_name="withdraw", comment=reason)


def _lead_signoff(actor, review: Review, decision: str, comment: str) -> SignOff:
    return SignOff.objects.create(
        review=review,
        user=actor,
        role=SignOffRole.LEAD,
        decision=decision,
        comment=comment,
        digest=content_digest(review),
    )


@transaction.atomic
def review_request_changes(*, actor, review: Review, comment: str = "") -> Review:
    review = _transition(actor=actor, review=review, action_name="request_changes", comment=comment)
    _lead_signoff(actor, review, Decision.REQUEST_CHANGES, comment)
    transaction.on_commit(lambda: notify_changes_requested(review, comment))
    return review


def _require_warnings_seen(gate, warnings_seen: str) -> None:
    """Refuse (409 ``warnings_unconfirmed``) unless ``warnings_seen`` is the digest of the gate's
    warnings as they are now (so a confirmation given for other warnings does not count)."""
    if gate.warnings and warnings_seen != gate.warnings_digest():
        count = len(gate.warnings)
        raise Conflict(
            f"Approving with {count} warning(s): confirm that you have seen them"
            + (" (they changed since the page showed them)." if warnings_seen else "."),
            code="warnings_unconfirmed",
            details={
                "warnings": [w.message for w in gate.warnings],
                "warnings_digest": gate.warnings_digest(),
            },
        )


@transaction.atomic
def review_approve(
    *, actor, review: Review, comment: str = "", warnings_seen: str | None = None
) -> Review:
    """Approve "ready for development": the gate is re-checked with the row locked. Approving
    with warnings (``GateResult.warnings``) is allowed; a caller that asks the lead to confirm
    them (the review page) passes the digest the lead confirmed as ``warnings_seen`` (``""``:
    none), and the approval is refused while it does not match the warnings as they are now.
    The returned review carries ``approval_gate``, the gate it was approved on."""
    review = _transition(
        actor=actor,
        review=review,
        action_name="approve",
        comment=comment,
        warnings_seen=warnings_seen,
    )
    _lead_signoff(actor, review, Decision.APPROVE, comment)
    transaction.on_commit(lambda: notify_approved(review))
    return review


@transaction.atomic
def review_reopen(*, actor, review: Review, reason: str) -> Review:
    if not (reason or "").strip():
        raise InvalidInput(
            "Reopening an approved review needs a reason.",
            details={"reason": ["This field is required."]},
        )
    return _transition(actor=actor, review=review, action_name="reopen", comment=reason.strip())


# A reviewer signing off while more than half of the items are unanswered is warned (never
# refused: a reviewer may have reviewed one part on purpose).
SIGNOFF_OPEN_SHARE_WARNING = 0.5


def signoff_warnings(progress: dict) -> list[str]:
    """What a reviewer should know before signing off, from a progress dict (``total``,
    ``unanswered``): most items still open. Warnings, not reasons: the sign-off is allowed."""
    total, unanswered = progress.get("total") or 0, progress.get("unanswered") or 0
    if total and unanswered > total * SIGNOFF_OPEN_SHARE_WARNING:
        return [
            f"{unanswered} of {total} items are still unanswered: a sign-off says you reviewed "
            "the current content."
        ]
    return []


@transaction.atomic
def signoff_create(
    *, actor, review: Review, comment: str = "", decision: str = Decision.APPROVE
) -> SignOff:
    """A reviewer's decision on the current content (its digest): ``approve`` ("reviewed, ready")
    or ``request_changes``. Only approvals count toward the quorum; a current request for
    changes blocks approval (gate rule 4) until the content changes. The returned sign-off
    carries ``warnings`` (:func:`signoff_warnings`)."""
    if decision not in Decision.values:
        raise InvalidInput(
            f"Unknown decision {decision!r}; use one of {', '.join(Decision.values)}.",
            details={"decision": [f"Choose one of {', '.join(Decision.values)}."]},
        )
    review = lock_review(review.pk)
    perms.require_visible(actor, review.spec.project_id, "review")
    reasons = why_not("signoff", review, actor)
    if reasons:
        _refuse("signoff", review, actor, reasons)
    try:
        with transaction.atomic():
            signoff = SignOff.objects.create(
                review=review,
                user=actor,
                role=SignOffRole.REVIEWER,
                decision=decision,
                comment=comment or "",
                digest=content_digest(review),
            )
    except IntegrityError:
        raise Conflict(
            "You have already signed off the current content.", code="transition_refused"
        ) from None
    review_event(
        actor=actor,
        review=review,
        verb="signoff.created",
        obj=signoff,
        after={
            "user": actor.email,
            "role": signoff.role,
            "decision": signoff.decision,
            "digest": signoff.digest,
            "comment": signoff.comment,
        },
    )
    signoff.warnings = signoff_warnings(review_progress(review))
    return signoff


def second_override_reason(review: Review, rule: str) -> tuple[str, Override] | None:
    """Why ``rule`` may not be overridden again on ``review`` now: an override of it is still
    active (granted for the current content and not expired). None when it may."""
    active = active_overrides(review).get(rule)
    if active is None:
        return None
    until = "until the content changes"
    if active.expires_at is not None:
        expiry = timezone.localtime(active.expires_at).strftime("%Y-%m-%d %H:%M")
        until = f"until {expiry} or until the content changes"
    reason = (
        f"“{GateRule(rule).label}” is already overridden by {active.granted_by.label} {until}; "
        "a second override of it is refused while that one is active."
    )
    return reason, active


def _refuse_second_override(review: Review, rule: str) -> None:
    refusal = second_override_reason(review, rule)
    if refusal is not None:
        reason, active = refusal
        raise Conflict(
            f"Cannot override: {reason}",
            code="already_overridden",
            details={"reasons": [reason], "rule": rule, "override": active.pk},
        )


@transaction.atomic
def override_grant(
    *, actor, review: Review, rule: str, justification: str, expires_at: datetime | None = None
) -> Override:
    review = lock_review(review.pk)
    perms.require_visible(actor, review.spec.project_id, "review")
    if rule not in OVERRIDABLE_RULES:
        raise InvalidInput(
            f"Rule {rule!r} cannot be overridden; overridable rules: "
            f"{', '.join(OVERRIDABLE_RULES)}.",
            details={"rule": ["Not overridable."]},
        )
    if not (justification or "").strip():
        raise InvalidInput(
            "An override needs a justification.",
            details={"justification": ["This field is required."]},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(
            "The expiry must be in the future.", details={"expires_at": ["In the past."]}
        )
    reasons = why_not("override", review, actor)
    if reasons:
        _refuse("override", review, actor, reasons)
    _refuse_second_override(review, rule)
    override = Override.objects.create(
        review=review,
        rule=rule,
        justification=justification.strip(),
        expires_at=expires_at,
        granted_by=actor,
        content_version=review.content_version,
    )
    review_event(
        actor=actor,
        review=review,
        verb="override.granted",
        obj=override,
        after={
            "rule": rule,
            "justification": override.justification,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return override


# --- template migration --------------------------------------------------------------------

COMPARED = ("text", "severity", "is_gate", "optional")


@transaction.atomic
def review_migrate(*, actor, review: Review, to_version: TemplateVersion) -> dict:
    """Move an open review to a newer published version of one of its templates. Answers follow
    stable keys; changed or new items start unanswered; removed items' answers are dropped
    (recorded in the event); sign-offs go stale."""
    review = lock_review(review.pk)
    perms.require(
        perms.can_migrate(actor, review),
        actor,
        review.spec.project_id,
        "Only leads move a review to a new checklist version.",
        "review",
    )
    if not review.is_open:
        raise Conflict(
            f"The review is {review.get_state_display().lower()}: it cannot be migrated.",
            code="transition_refused",
        )
    if to_version.status != VersionStatus.PUBLISHED:
        raise InvalidInput(
            f"{to_version} is not published.", details={"to_version": ["Not published."]}
        )
    link = (
        review.review_templates.select_related("version")
        .filter(version__template_id=to_version.template_id)
        .first()
    )
    if link is None:
        raise InvalidInput(
            "This review does not use that checklist.", details={"to_version": ["Not used."]}
        )
    old = link.version
    if to_version.number <= old.number:
        raise Conflict(
            f"The review already uses {old}; choose a newer version.", code="transition_refused"
        )
    old_responses = {
        r.item.key: r
        for r in Response.objects.filter(review=review, item__version=old).select_related("item")
    }
    new_items = list(Item.objects.filter(version=to_version))
    # A changed item's answer goes back to re-check by the system, in the new version's name.
    reason = f"checklist {to_version.template.slug} v{to_version.number}"[:300]
    now = timezone.now()
    kept, reset, added, to_create, to_update = [], [], [], [], []
    for item in new_items:
        previous = old_responses.pop(item.key, None)
        if previous is None:
            added.append(item.key)
            to_create.append(Response(review=review, item=item))
            continue
        same = all(getattr(previous.item, f) == getattr(item, f) for f in COMPARED)
        previous.item = item
        previous.version += 1
        if same:
            kept.append(item.key)
        else:
            reset.append(item.key)
            if previous.verdict != "unanswered":
                previous.needs_recheck = True
                previous.answered_by, previous.answered_at = None, now
                previous.reset_reason = reason
            else:
                previous.needs_recheck, previous.reset_reason = False, ""
            previous.verdict = "unanswered"
        to_update.append(previous)
    removed = {key: {"verdict": r.verdict, "note": r.note} for key, r in old_responses.items()}
    Response.objects.filter(pk__in=[r.pk for r in old_responses.values()]).delete()
    Response.objects.bulk_update(
        to_update,
        [
            "item",
            "version",
            "verdict",
            "needs_recheck",
            "answered_by",
            "answered_at",
            "reset_reason",
        ],
        batch_size=500,
    )
    Response.objects.bulk_create(to_create, batch_size=500)
    progress_refresh([review.pk])
    link.version = to_version
    link.save(update_fields=["version"])
    summary = {"kept": len(kept), "reset": reset, "added": added, "removed": sorted(removed)}
    event = review_event(
        actor=actor,
        review=review,
        verb="review.migrated",
        before={"version": old.pk, "number": old.number, "removed_answers": removed},
        after={"version": to_version.pk, "number": to_version.number, **summary},
    )
    content_changed(
        review, cause=event, reason=f"moved to {to_version.template.slug} v{to_version.number}"
    )
    return summary
