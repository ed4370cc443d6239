"""The quality gate: five rules, each satisfied / unsatisfied / not_applicable / overridden.

``evaluate_gate`` reads a constant number of queries whatever the size of the review; the same
inputs always give the same answer. ``reviews.services`` calls it inside the approval
transaction, with the review row locked.
"""

from dataclasses import asdict, dataclass, field

from django.db.models import F, Q
from django.utils import timezone

from checklists.models import Severity
from reviews.models import (
    Decision,
    FindingSeverity,
    FindingStatus,
    GateRule,
    Override,
    Response,
    Review,
    SignOff,
    SignOffRole,
    SpecRevision,
    Verdict,
)
from reviews.permissions import can_approve

SATISFIED = "satisfied"
UNSATISFIED = "unsatisfied"
NOT_APPLICABLE = "not_applicable"
OVERRIDDEN = "overridden"

BLOCKING_LIMIT = 100


@dataclass
class RuleResult:
    rule: str
    status: str
    title: str
    message: str
    blocking: list[dict] = field(default_factory=list)
    blocking_count: int = 0
    override: dict | None = None


@dataclass
class GateResult:
    ready: bool
    rules: list[RuleResult]

    def unsatisfied(self) -> list[RuleResult]:
        return [r for r in self.rules if r.status == UNSATISFIED]

    def as_dict(self) -> dict:
        return {"ready": self.ready, "rules": [asdict(rule) for rule in self.rules]}


def spec_authors(review: Review) -> set[int]:
    """The spec's author and everyone who posted one of its revisions."""
    posters = SpecRevision.objects.filter(spec_id=review.spec_id).values_list(
        "posted_by_id", flat=True
    )
    return {review.spec.author_id, *posters}


def _item_entry(row: dict) -> dict:
    return {
        "type": "item",
        "item": row["item_id"],
        "key": row["item__key"],
        "text": row["item__text"][:200],
        "verdict": row["verdict"],
    }


def _limited(query) -> tuple[list[dict], int]:
    rows = list(query[: BLOCKING_LIMIT + 1])
    if len(rows) <= BLOCKING_LIMIT:
        return rows, len(rows)
    return rows[:BLOCKING_LIMIT], query.count()


ITEM_FIELDS = ("item_id", "item__key", "item__text", "verdict")


def _gate_items(review: Review) -> RuleResult:
    responses = Response.objects.filter(review=review, item__is_gate=True)
    if not responses.exists():
        return RuleResult(
            GateRule.GATE_ITEMS,
            NOT_APPLICABLE,
            GateRule.GATE_ITEMS.label,
            "This review has no gate items.",
        )
    blocking = (
        responses.exclude(verdict=Verdict.PASS)
        .exclude(Q(verdict=Verdict.NA) & ~Q(note=""))
        .order_by("item__version_id", "item__position")
        .values(*ITEM_FIELDS)
    )
    rows, count = _limited(blocking)
    status = UNSATISFIED if count else SATISFIED
    message = (
        f"{count} gate item(s) not passed (or N/A without a note)."
        if count
        else "Every gate item passes or is N/A with a note."
    )
    return RuleResult(
        GateRule.GATE_ITEMS,
        status,
        GateRule.GATE_ITEMS.label,
        message,
        [_item_entry(r) for r in rows],
        count,
    )


def _must_items(review: Review) -> RuleResult:
    blocking = (
        Response.objects.filter(review=review)
        .filter(
            Q(item__severity=Severity.MUST, verdict=Verdict.UNANSWERED)
            | Q(verdict=Verdict.NA, note="", item__optional=False)
        )
        .order_by("item__version_id", "item__position")
        .values(*ITEM_FIELDS)
    )
    rows, count = _limited(blocking)
    status = UNSATISFIED if count else SATISFIED
    message = (
        f"{count} must item(s) unanswered or N/A without a note."
        if count
        else "Every must item is answered and every required N/A has a note."
    )
    return RuleResult(
        GateRule.MUST_ITEMS,
        status,
        GateRule.MUST_ITEMS.label,
        message,
        [_item_entry(r) for r in rows],
        count,
    )


def _findings(review: Review) -> RuleResult:
    severities = [FindingSeverity.CRITICAL]
    if review.spec.project.important_findings_block:
        severities.append(FindingSeverity.IMPORTANT)
    rows = list(
        review.findings.filter(status=FindingStatus.OPEN, severity__in=severities)
        .order_by("created_at", "id")
        .values("id", "severity", "title")
    )
    blocking = [
        {"type": "finding", "finding": r["id"], "severity": r["severity"], "title": r["title"]}
        for r in rows
    ]
    names = " or ".join(str(s) for s in severities)
    if blocking:
        message = f"{len(blocking)} open {names} finding(s)."
    else:
        message = f"No open {names} finding."
    return RuleResult(
        GateRule.FINDINGS,
        UNSATISFIED if blocking else SATISFIED,
        GateRule.FINDINGS.label,
        message,
        blocking,
        len(blocking),
    )


def _signoffs(review: Review, authors: set[int]) -> RuleResult:
    required = review.spec.project.required_signoffs
    current = list(
        SignOff.objects.filter(
            review=review, role=SignOffRole.REVIEWER, decision=Decision.APPROVE, stale=False
        )
        .exclude(user_id__in=authors)
        .values_list("user__email", flat=True)
        .distinct()
    )
    have = len(current)
    if have >= required:
        return RuleResult(
            GateRule.SIGNOFFS,
            SATISFIED,
            GateRule.SIGNOFFS.label,
            f"{have} of {required} required reviewer sign-off(s).",
        )
    return RuleResult(
        GateRule.SIGNOFFS,
        UNSATISFIED,
        GateRule.SIGNOFFS.label,
        f"{have} of {required} required reviewer sign-off(s); {required - have} more needed.",
        [{"type": "signoffs", "have": have, "required": required, "signed": current}],
        required - have,
    )


def _not_author(review: Review, user, authors: set[int]) -> RuleResult:
    title = GateRule.NOT_AUTHOR.label
    if user is None or not can_approve(user, review):
        return RuleResult(
            GateRule.NOT_AUTHOR, NOT_APPLICABLE, title, "Checked against the lead who approves."
        )
    if user.pk in authors:
        return RuleResult(
            GateRule.NOT_AUTHOR,
            UNSATISFIED,
            title,
            "You wrote this spec or posted one of its revisions: another lead must approve.",
            [{"type": "user", "user": user.email}],
            1,
        )
    return RuleResult(
        GateRule.NOT_AUTHOR,
        SATISFIED,
        title,
        "You did not write this spec or post any of its revisions.",
    )


def active_overrides(review: Review, now=None) -> dict[str, Override]:
    """Overrides granted for the current content (the stored ``content_version``, read in the
    same query, so a stale in-memory review cannot revive a lapsed override) and not expired."""
    now = now or timezone.now()
    current = (
        Override.objects.filter(review_id=review.pk, content_version=F("review__content_version"))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("granted_by")
        .order_by("created_at", "id")
    )
    return {override.rule: override for override in current}


def evaluate_gate(review: Review, user=None) -> GateResult:
    """Evaluate every rule for ``user`` as the would-be approver (rule 5)."""
    authors = spec_authors(review)
    rules = [
        _gate_items(review),
        _must_items(review),
        _findings(review),
        _signoffs(review, authors),
        _not_author(review, user, authors),
    ]
    overrides = active_overrides(review)
    for rule in rules:
        override = overrides.get(rule.rule)
        if override is not None and rule.status == UNSATISFIED:
            rule.status = OVERRIDDEN
            rule.override = {
                "id": override.pk,
                "justification": override.justification,
                "granted_by": override.granted_by.email,
                "expires_at": override.expires_at.isoformat() if override.expires_at else None,
            }
    ready = all(rule.status != UNSATISFIED for rule in rules)
    return GateResult(ready=ready, rules=rules)
