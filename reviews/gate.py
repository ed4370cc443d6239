"""The quality gate: five rules, each satisfied / unsatisfied / not_applicable / overridden.

``evaluate_gate`` reads a constant number of queries whatever the size of the review (at most
five: the answers in one narrow query, the findings, the current sign-offs, the spec's authors
only when a rule needs them, the active overrides); the same inputs
always give the same answer. Callers that already hold the answers, findings or sign-offs (the
review page) pass them in, so the page does not read them twice. ``reviews.services`` calls it inside the approval
transaction, with the review row locked.

Four eyes: the sign-offs that count toward the quorum (rule 4) come from people other than
the approving lead and the spec's authors (:func:`spec_authors`, the one definition, also in
queryset form for lists: :func:`reviews_authored_by`, :func:`approvable_by`). The rule names
the sign-offs it does not count and why. A reviewer's sign-off that requests changes never
counts, and while it covers the current content it holds rule 4 unsatisfied (saying whose). Evaluated for a user who may approve, the gate is that
user approving; for anyone else, no approver is assumed (rule 5 is not applicable and only the
authors' sign-offs are set aside).
"""

import hashlib
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.utils import timezone

from checklists.models import Item, Severity
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
from reviews.permissions import can_approve, reviews_led_by

SATISFIED = "satisfied"
UNSATISFIED = "unsatisfied"
NOT_APPLICABLE = "not_applicable"
OVERRIDDEN = "overridden"

BLOCKING_LIMIT = 100
# The items or findings a warning lists (its ``count`` says how many there are in all).
WARNING_LIMIT = 100


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
class GateWarning:
    """Something that does not block approval but that the approving lead should see: ``count``
    items or findings, the first ``WARNING_LIMIT`` of them in ``entries`` (each
    ``{"type": "item", "item", "key", "text", "verdict", "severity"}`` or
    ``{"type": "finding", "finding", "severity", "title"}``)."""

    code: str
    title: str
    message: str
    count: int
    entries: list[dict] = field(default_factory=list)


@dataclass
class GateResult:
    ready: bool
    rules: list[RuleResult]
    warnings: list[GateWarning] = field(default_factory=list)
    digest: str = field(default="", repr=False)  # of the warnings: ``warnings_digest``
    # What the evaluation read, for callers (``why_not``) that need the same facts again.
    data: "GateData | None" = field(default=None, compare=False, repr=False)

    def unsatisfied(self) -> list[RuleResult]:
        return [r for r in self.rules if r.status == UNSATISFIED]

    def as_dict(self) -> dict:
        return {
            "ready": self.ready,
            "rules": [asdict(rule) for rule in self.rules],
            "warnings": [asdict(warning) for warning in self.warnings],
            "warnings_digest": self.warnings_digest(),
        }

    def warnings_digest(self) -> str:
        """What the warnings are (each one's code and every item or finding it counts, not only
        those it lists), in a short digest: a lead's confirmation that they saw the warnings
        holds only while it matches (``""`` when there is no warning)."""
        return self.digest

    def seconds_valid(self, now=None) -> int | None:
        """How long this answer holds without any change to the data: until the first
        override it relies on expires (None: no such limit)."""
        now = now or timezone.now()
        expiries = [
            datetime.fromisoformat(rule.override["expires_at"])
            for rule in self.rules
            if rule.override and rule.override.get("expires_at")
        ]
        if not expiries:
            return None
        return max(0, math.floor((min(expiries) - now).total_seconds()))


class ItemRow(NamedTuple):
    """One answer as the gate and the progress bars need it. ``text`` is only filled in for
    rows that can block the gate (the others never show their text). The rows are read as
    plain tuples in this order (a thousand named tuples cost more than the query); the
    functions below index them by position."""

    item_id: int
    key: str
    text: str
    verdict: str
    note_empty: bool
    is_gate: bool
    severity: str
    optional: bool
    section_id: int
    parent_id: int | None


_NOTE_EMPTY = Q(note="")
_MAY_BLOCK = (
    Q(item__is_gate=True) & ~Q(verdict=Verdict.PASS) & ~(Q(verdict=Verdict.NA) & ~_NOTE_EMPTY)
) | (
    Q(item__severity=Severity.MUST, verdict=Verdict.UNANSWERED)
    | Q(verdict=Verdict.NA, note="", item__optional=False)
)


# Answers that a warning lists (``gate_warnings``): fails, and unanswered should / could items.
_MAY_WARN = Q(verdict=Verdict.FAIL) | Q(
    verdict=Verdict.UNANSWERED, item__severity__in=[Severity.SHOULD, Severity.COULD]
)

# An item's text, read only where the answer can block the gate (rule 2) or be listed by a
# warning; "" elsewhere (a passed or N/A item's text is never shown from these rows).
_BLOCKING_TEXT = Case(
    When(_MAY_BLOCK | _MAY_WARN, then=F("item__text")),
    default=Value(""),
    output_field=TextField(),
)
_NOTE_EMPTY_FLAG = ExpressionWrapper(_NOTE_EMPTY, output_field=BooleanField())
# The columns of an ``ItemRow``, read with the two annotations above (the review page reads
# these first and more after them: ``reviews.views.sections.PAGE_FIELDS``).
_ROW_FIELDS = (
    "item_id",
    "item__key",
    "_text",
    "verdict",
    "_note_empty",
    "item__is_gate",
    "item__severity",
    "item__optional",
    "item__section_id",
    "item__section__parent_id",
)


def item_rows(review: Review, *, candidates_only: bool = False) -> list[tuple]:
    """The review's answers, narrow, in checklist order: one query. Every answer (what the
    progress bars need too), or with ``candidates_only`` just the gate items, the answers
    that block rule 2 and the fails and unanswered items (its warnings): what the gate alone
    needs."""
    rows = Response.objects.filter(review_id=review.pk)
    if candidates_only:
        rows = rows.filter(Q(item__is_gate=True) | _MAY_BLOCK | _MAY_WARN).annotate(
            _text=F("item__text")
        )
    else:
        rows = rows.annotate(_text=_BLOCKING_TEXT)
    rows = (
        rows.annotate(_note_empty=_NOTE_EMPTY_FLAG)
        .order_by("item__version_id", "item__position")
        .values_list(*_ROW_FIELDS)
    )
    return list(rows)


# --- the spec's authors, and who may approve ----------------------------------------------


def revision_posters(spec_id) -> QuerySet:
    """Rows ``(user id,)`` of everyone who posted a revision of the spec."""
    return SpecRevision.objects.filter(spec_id=spec_id).order_by().values_list("posted_by_id")


def authors_from(author_id: int, poster_rows) -> set[int]:
    """The spec's authors: its author and the posters (rows of :func:`revision_posters`)."""
    return {author_id, *(pk for (pk,) in poster_rows)}


def spec_authors(review: Review) -> set[int]:
    """The spec's authors: its author and everyone who posted one of its revisions. They never
    approve it (rule 5), sign it off, or count toward its quorum (rule 4)."""
    return authors_from(review.spec.author_id, revision_posters(review.spec_id))


def reviews_authored_by(user) -> Q:
    """:func:`spec_authors` as a condition on reviews: ``user`` is one of the spec's authors."""
    posted = revision_posters(OuterRef("spec_id")).filter(posted_by_id=user.pk)
    return Q(spec__author_id=user.pk) | Q(Exists(posted))


def approvable_by(user, reviews: QuerySet[Review]) -> QuerySet[Review]:
    """The reviews of ``reviews`` that ``user`` may approve as far as who they are goes: a
    lead of the project (``permissions.can_approve``) who is not one of the spec's authors
    (rule 5). The state and the other rules are the caller's (lists) or the gate's."""
    return reviews_led_by(user, reviews).exclude(reviews_authored_by(user))


def approver_of(review: Review, user):
    """``user`` as the would-be approver the gate evaluates, or None when they may not
    approve at all (then no approver is assumed)."""
    return user if user is not None and can_approve(user, review) else None


class SignOffRow(NamedTuple):
    user_id: int
    email: str
    role: str
    decision: str
    stale: bool


class FindingRow(NamedTuple):
    id: int
    severity: str
    title: str
    status: str


class GateData:
    """The facts the gate reads, each loaded at most once (the authors only when asked)."""

    def __init__(
        self,
        review: Review,
        *,
        items: Iterable | None = None,
        findings: Iterable | None = None,
        signoffs: Iterable | None = None,
        authors: set[int] | None = None,
        overrides: dict[str, Override] | None = None,
    ):
        self.review = review
        self.overrides = overrides
        self.items = list(items) if items is not None else item_rows(review, candidates_only=True)
        if findings is None:
            findings = review.findings.filter(status=FindingStatus.OPEN).order_by(
                "created_at", "id"
            )
            findings = findings.values_list("id", "severity", "title", "status")
        else:
            findings = ((f.pk, f.severity, f.title, f.status) for f in findings)
        self.findings = [FindingRow(*f) for f in findings]
        if signoffs is None:
            signoffs = (
                SignOff.objects.filter(review_id=review.pk, stale=False)
                .order_by("created_at", "id")
                .values_list("user_id", "user__email", "role", "decision", "stale")
            )
        else:
            signoffs = ((s.user_id, s.user.email, s.role, s.decision, s.stale) for s in signoffs)
        self.signoffs = [SignOffRow(*s) for s in signoffs]
        self._authors = authors

    def authors(self) -> set[int]:
        if self._authors is None:
            self._authors = spec_authors(self.review)
        return self._authors

    def item_texts(self, item_ids) -> dict[int, str]:
        """The text of these items (the rows a caller passed in may lack it): one query."""
        return dict(Item.objects.filter(pk__in=list(item_ids)).values_list("pk", "text"))

    def has_current_reviewer_signoff(self, user_id: int) -> bool:
        return any(
            s.user_id == user_id and s.role == SignOffRole.REVIEWER and not s.stale
            for s in self.signoffs
        )


def _item_entry(row: tuple) -> dict:
    item_id, key, text, verdict = row[:4]
    return {"type": "item", "item": item_id, "key": key, "text": text[:200], "verdict": verdict}


def _item_rule(rule, blocking: list[tuple], message: str, ok_message: str) -> RuleResult:
    count = len(blocking)
    return RuleResult(
        rule,
        UNSATISFIED if count else SATISFIED,
        rule.label,
        message.format(count=count) if count else ok_message,
        [_item_entry(r) for r in blocking[:BLOCKING_LIMIT]],
        count,
    )


def _gate_items(data: GateData) -> RuleResult:
    gate_rows = [r for r in data.items if r[5]]  # is_gate
    if not gate_rows:
        return RuleResult(
            GateRule.GATE_ITEMS,
            NOT_APPLICABLE,
            GateRule.GATE_ITEMS.label,
            "This review has no gate items.",
        )
    return _item_rule(
        GateRule.GATE_ITEMS,
        # rule 1 for one gate item: anything but pass, or N/A with a note
        # (verdict, note_empty = r[3], r[4])
        [r for r in gate_rows if r[3] != Verdict.PASS and not (r[3] == Verdict.NA and not r[4])],
        "{count} gate item(s) not passed (or N/A without a note).",
        "Every gate item passes or is N/A with a note.",
    )


def _must_items(data: GateData) -> RuleResult:
    return _item_rule(
        GateRule.MUST_ITEMS,
        # rule 2 for one item: a must item unanswered, or N/A without a note on a required item
        # (verdict, note_empty, severity, optional = r[3], r[4], r[6], r[7])
        [
            r
            for r in data.items
            if (r[6] == Severity.MUST and r[3] == Verdict.UNANSWERED)
            or (r[3] == Verdict.NA and r[4] and not r[7])
        ],
        "{count} must item(s) unanswered or N/A without a note.",
        "Every must item is answered and every required N/A has a note.",
    )


def _findings(review: Review, data: GateData) -> RuleResult:
    severities = [FindingSeverity.CRITICAL]
    if review.spec.project.important_findings_block:
        severities.append(FindingSeverity.IMPORTANT)
    blocking = [
        {"type": "finding", "finding": f.id, "severity": f.severity, "title": f.title}
        for f in data.findings
        if f.status == FindingStatus.OPEN and f.severity in severities
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


# Why a current reviewer sign-off does not count toward the quorum (four eyes).
SPEC_AUTHOR = "spec author"
APPROVING_LEAD = "approving lead"


def _counted_signoffs(data: GateData, approver) -> tuple[list[str], list[dict]]:
    """(e-mails whose sign-offs count, [{"user", "reason"}] of those that do not), each person
    once, in the order they signed off."""
    candidates = [
        s
        for s in data.signoffs
        if s.role == SignOffRole.REVIEWER and s.decision == Decision.APPROVE and not s.stale
    ]
    authors = data.authors() if candidates else set()
    counted, not_counted, seen = [], [], set()
    for s in candidates:
        if s.user_id in seen:
            continue
        seen.add(s.user_id)
        if s.user_id in authors:
            not_counted.append({"user": s.email, "reason": SPEC_AUTHOR})
        elif approver is not None and s.user_id == approver.pk:
            not_counted.append({"user": s.email, "reason": APPROVING_LEAD})
        else:
            counted.append(s.email)
    return counted, not_counted


def _change_requests(data: GateData) -> list[str]:
    """The e-mails of reviewers whose sign-off on the current content requests changes, each
    person once, in the order they signed off."""
    emails = [
        s.email
        for s in data.signoffs
        if s.role == SignOffRole.REVIEWER and s.decision == Decision.REQUEST_CHANGES and not s.stale
    ]
    return list(dict.fromkeys(emails))


def _signoffs(review: Review, approver, data: GateData) -> RuleResult:
    """Rule 4: enough current reviewer approvals from people other than the approving lead and
    the spec's authors. A reviewer's request for changes never counts, and while it covers the
    current content it blocks the rule (until a change makes it stale, or a lead overrides)."""
    required = review.spec.project.required_signoffs
    current, not_counted = _counted_signoffs(data, approver)
    objections = _change_requests(data)
    have = len(current)
    message = f"{have} of {required} required reviewer sign-off(s)"
    if have < required:
        message += f"; {required - have} more needed"
    message += "."
    if not_counted:
        names = ", ".join(f"{entry['user']} ({entry['reason']})" for entry in not_counted)
        message += (
            f" Not counted: {names}: sign-offs count only from people other than the approving"
            " lead and the spec's authors."
        )
    if objections:
        message += (
            f" Changes requested by {', '.join(objections)} on the current content: a"
            " reviewer's request for changes blocks approval until the content changes (which"
            " makes it stale) or a lead overrides this rule."
        )
    if have >= required and not objections:
        return RuleResult(GateRule.SIGNOFFS, SATISFIED, GateRule.SIGNOFFS.label, message)
    return RuleResult(
        GateRule.SIGNOFFS,
        UNSATISFIED,
        GateRule.SIGNOFFS.label,
        message,
        [
            {
                "type": "signoffs",
                "have": have,
                "required": required,
                "signed": current,
                "not_counted": not_counted,
                "requested_changes": objections,
            }
        ],
        max(required - have, 0) + len(objections),
    )


def _not_author(review: Review, user, data: GateData) -> RuleResult:
    title = GateRule.NOT_AUTHOR.label
    if user is None:
        return RuleResult(
            GateRule.NOT_AUTHOR, NOT_APPLICABLE, title, "Checked against the lead who approves."
        )
    if user.pk in data.authors():
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
        f"The approver, {user.email}, did not write this spec or post any of its revisions.",
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


# --- warnings: what does not block, but a lead should see before approving ------------------


def _severity_counts(rows) -> str:
    counts = {}
    for r in rows:
        counts[r[6]] = counts.get(r[6], 0) + 1
    return ", ".join(f"{counts[s]} {s}" for s in Severity.values if s in counts)


def _item_warning(code, title, rows, message, limit) -> GateWarning:
    entries = [{**_item_entry(r), "severity": r[6]} for r in rows[:limit]]
    return GateWarning(code, title, message, len(rows), entries)


def gate_warnings(
    review: Review, data: GateData, *, limit: int = WARNING_LIMIT
) -> tuple[list[GateWarning], str]:
    """The gate's warnings (:class:`GateWarning`), each listing at most ``limit`` items or
    findings: items that failed but are not gate items (a failed gate item blocks rule 1),
    unanswered ``should`` and ``could`` items that are not gate items (an unanswered must or
    gate item blocks), and open ``important`` findings where the project does not make them
    block (rule 3). Also their digest, of every item or finding they count (so it does not
    depend on ``limit``)."""
    warnings = []
    counted: list[tuple] = []  # (code, ids) of every warning
    not_gate = [r for r in data.items if not r[5]]  # is_gate
    failed = [r for r in not_gate if r[3] == Verdict.FAIL]
    if failed:
        counted.append(("failed_items", [r[0] for r in failed]))
        warnings.append(
            _item_warning(
                "failed_items",
                "Failed items",
                failed,
                f"{len(failed)} item(s) failed ({_severity_counts(failed)}); they are not gate"
                " items, so they do not block approval.",
                limit,
            )
        )
    for severity, code in (
        (Severity.SHOULD, "unanswered_should"),
        (Severity.COULD, "unanswered_could"),
    ):
        rows = [r for r in not_gate if r[3] == Verdict.UNANSWERED and r[6] == severity]
        if rows:
            counted.append((code, [r[0] for r in rows]))
            warnings.append(
                _item_warning(
                    code,
                    f"Unanswered {severity} items",
                    rows,
                    f"{len(rows)} {severity} item(s) not answered yet.",
                    limit,
                )
            )
    if not review.spec.project.important_findings_block:
        important = [
            f
            for f in data.findings
            if f.status == FindingStatus.OPEN and f.severity == FindingSeverity.IMPORTANT
        ]
        if important:
            counted.append(("open_important_findings", [f.id for f in important]))
            warnings.append(
                GateWarning(
                    "open_important_findings",
                    "Open important findings",
                    f"{len(important)} important finding(s) still open; this project does not"
                    " make them block approval.",
                    len(important),
                    [
                        {
                            "type": "finding",
                            "finding": f.id,
                            "severity": f.severity,
                            "title": f.title,
                        }
                        for f in important[:limit]
                    ],
                )
            )
    # Rows the caller read narrow carry no text where they cannot block: one query for those
    # the warnings list.
    missing = [e for w in warnings for e in w.entries if e["type"] == "item" and not e["text"]]
    if missing:
        texts = data.item_texts({e["item"] for e in missing})
        for entry in missing:
            entry["text"] = texts.get(entry["item"], "")[:200]
    digest = ""
    if counted:
        digest = hashlib.blake2b(repr(counted).encode(), digest_size=8).hexdigest()
    return warnings, digest


def evaluate_gate(
    review: Review,
    user=None,
    *,
    data: GateData | None = None,
    warning_limit: int = WARNING_LIMIT,
) -> GateResult:
    """Evaluate every rule for ``user`` as the would-be approver (rules 4 and 5) when they may
    approve; for anyone else with no approver assumed; and the warnings, each listing at most
    ``warning_limit`` items or findings. ``data`` (a :class:`GateData` for this review) lets a
    caller share what it already read."""
    data = data if data is not None else GateData(review)
    approver = approver_of(review, user)
    rules = [
        _gate_items(data),
        _must_items(data),
        _findings(review, data),
        _signoffs(review, approver, data),
        _not_author(review, approver, data),
    ]
    # An active override always shows, as ``overridden`` (never as satisfied), even where the
    # rule has come to hold on its own since it was granted.
    overrides = data.overrides if data.overrides is not None else active_overrides(review)
    for rule in rules:
        override = overrides.get(rule.rule)
        if override is not None:
            rule.status = OVERRIDDEN
            rule.override = {
                "id": override.pk,
                "justification": override.justification,
                "granted_by": override.granted_by.email,
                "expires_at": override.expires_at.isoformat() if override.expires_at else None,
            }
    ready = all(rule.status != UNSATISFIED for rule in rules)
    warnings, digest = gate_warnings(review, data, limit=warning_limit)
    return GateResult(ready=ready, rules=rules, warnings=warnings, digest=digest, data=data)
