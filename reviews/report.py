"""The review report: the approval record. Markdown (for people and the API), CSV and the
printable page (``reviews.views.report``) all say who approved and when, the gate as it stood
(with its overrides), every sign-off with its decision, comment and staleness, and the answers.

The report is the same for every reader: nothing in it depends on who reads it (the gate is the
one recorded at the approval, or, before one, evaluated with no approver assumed). Times are in
the site's time zone. Both read a constant number of queries whatever the size of the review.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from audit.models import Event
from reviews.gate import approver_of, evaluate_gate
from reviews.models import (
    Decision,
    FindingSeverity,
    GateRule,
    Override,
    Review,
    ReviewState,
    SignOff,
    Verdict,
)
from reviews.selectors import findings_for_review, responses_for_review, review_progress

SEVERITY_HEADINGS = [
    (FindingSeverity.CRITICAL, "Critical issues"),
    (FindingSeverity.IMPORTANT, "Important issues"),
    (FindingSeverity.SUGGESTION, "Suggestions"),
    (FindingSeverity.STRENGTH, "Strengths"),
]
VERDICT_MARKS = {
    Verdict.PASS: "[x] pass",
    Verdict.FAIL: "[!] fail",
    Verdict.NA: "[-] n/a",
    Verdict.UNANSWERED: "[ ] open",
}
# An autolink may hold no space, control character, "<" or ">" (CommonMark).
AUTOLINK = re.compile(r"https?://[^\x00-\x20<>\x7f]+")
CSV_COLUMNS = [
    "record",  # approval, gate, gate_rule, override, signoff or item
    "template",
    "section",
    "group",
    "key",
    "text",
    "severity",
    "gate",
    "verdict",
    "note",
    "answered_by",
    "answered_at",
    "rule",
    "status",
    "decision",
    "by",
    "at",
    "expires_at",
    "stale_reason",
    "detail",
]


# Markdown that user text could otherwise start: emphasis and code (* _ `), links and images
# ([ ] — "![" and "](" need a bracket), raw HTML and autolinks (<), strikethrough (~), math ($ on
# GitHub), headings' closing sequence (#) and backslash itself. Entity references (&gt;, &#60;)
# are escaped by their "&". Nothing is HTML-escaped: the text reads as typed once rendered.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<~$#])")
ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def _one_line(text: str) -> str:
    """User text (titles, notes, findings, reasons, names) on one line, with every Markdown
    construct in it escaped, so that it renders as the characters typed: no link, image,
    HTML or emphasis arises from it."""
    flat = " ".join((text or "").split())
    return ENTITY.sub(r"\\&", MARKDOWN_SPECIAL.sub(r"\\\1", flat))


def _code(text: str) -> str:
    """A code span (item keys): its content is literal; the fence outgrows any backtick run."""
    flat = " ".join((text or "").split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _link(url: str) -> str:
    """An http(s) URL as an autolink (nothing inside one is interpreted); anything else as
    escaped text."""
    flat = (url or "").strip()
    if AUTOLINK.fullmatch(flat):
        return f" <{flat}>"
    return f" {_one_line(flat)}"


def _section_and_group(item) -> tuple[str, str]:
    section = item.section
    if section.parent_id:
        return section.parent.title, section.title
    return section.title, ""


def when(moment: datetime | None) -> str:
    """A time as the report shows it: in the site's time zone, whoever reads it."""
    if moment is None:
        return ""
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M %Z")


@dataclass
class OverrideLine:
    rule: str
    title: str
    justification: str
    granted_by: str  # label
    granted_by_email: str
    granted_at: datetime
    expires_at: datetime | None
    status: str  # active, expired, lapsed


@dataclass
class SignOffLine:
    user: str  # label
    email: str
    role: str
    decision: str
    comment: str
    created_at: datetime
    stale: bool
    stale_reason: str

    @property
    def decision_text(self) -> str:
        return "requested changes" if self.decision == Decision.REQUEST_CHANGES else "approved"


@dataclass
class ApprovalRecord:
    """What the report records, the same for every reader."""

    state: str
    state_label: str
    approved: bool
    approved_by: str = ""  # label
    approved_by_email: str = ""
    approved_at: datetime | None = None
    comment: str = ""
    gate: dict = field(default_factory=dict)  # ``GateResult.as_dict()``
    gate_as_of: str = "now"  # "approval": as recorded when the review was approved
    overrides: list[OverrideLine] = field(default_factory=list)
    signoffs: list[SignOffLine] = field(default_factory=list)

    def gate_rules(self) -> list[dict]:
        """The gate's rules, each override with its expiry as the report writes it."""
        rules = []
        for rule in self.gate.get("rules", []):
            override = rule.get("override")
            if override:
                override = {**override, "expiry": _expiry(_parse(override.get("expires_at")))}
            rules.append({**rule, "override": override})
        return rules


_RULE_TITLES = dict(GateRule.choices)


def _override_status(override: Override, review: Review, now) -> str:
    if override.content_version != review.content_version:
        return "lapsed (the content changed)"
    if override.expires_at is not None and override.expires_at <= now:
        return "expired"
    return "active"


def approval_record(review: Review) -> ApprovalRecord:
    """The approval record of ``review`` (loaded with its spec and project): four queries."""
    now = timezone.now()
    record = ApprovalRecord(
        state=review.state,
        state_label=str(review.get_state_display()),
        approved=review.state == ReviewState.APPROVED,
    )
    if record.approved:
        event = (
            Event.objects.filter(review_id=review.pk, verb="review.approve")
            .select_related("actor")
            .order_by("-id")
            .first()
        )
        approver = event.actor if event is not None else None
        if approver is not None:
            record.approved_by, record.approved_by_email = approver.label, approver.email
        record.approved_at = review.approved_at or (event.created_at if event else None)
        after = event.after if event is not None else {}
        record.comment = after.get("comment", "")
        if isinstance(after.get("gate"), dict):
            record.gate, record.gate_as_of = after["gate"], "approval"
        else:  # approved before the gate was recorded: evaluated for the approver
            record.gate = evaluate_gate(review, approver_of(review, approver)).as_dict()
    else:
        record.gate = evaluate_gate(review, None).as_dict()
    record.overrides = [
        OverrideLine(
            rule=o.rule,
            title=str(_RULE_TITLES.get(o.rule, o.rule)),
            justification=o.justification,
            granted_by=o.granted_by.label,
            granted_by_email=o.granted_by.email,
            granted_at=o.created_at,
            expires_at=o.expires_at,
            status=_override_status(o, review, now),
        )
        for o in Override.objects.filter(review_id=review.pk)
        .select_related("granted_by")
        .order_by("created_at", "id")
    ]
    record.signoffs = [
        SignOffLine(
            user=s.user.label,
            email=s.user.email,
            role=s.role,
            decision=s.decision,
            comment=s.comment,
            created_at=s.created_at,
            stale=s.stale,
            stale_reason=s.stale_reason,
        )
        for s in SignOff.objects.filter(review_id=review.pk)
        .select_related("user")
        .order_by("created_at", "id")
    ]
    return record


def _expiry(expires_at) -> str:
    return f"expires {when(expires_at)}" if expires_at else "no expiry"


def _record_markdown(record: ApprovalRecord) -> list[str]:
    out = ["", "## Approval", ""]
    if record.approved:
        out.append(
            f"Approved by {_one_line(record.approved_by)} ({_one_line(record.approved_by_email)})"
            f" at {when(record.approved_at)}."
        )
        if record.comment:
            out += ["", f"Comment: {_one_line(record.comment)}"]
    else:
        out.append(f"Not approved: the review is {record.state_label.lower()}.")
    gate = record.gate
    as_of = "as it stood at the approval" if record.gate_as_of == "approval" else "as of now"
    out += [
        "",
        "## Gate",
        "",
        f"Ready for development: {'yes' if gate.get('ready') else 'no'} ({as_of})",
        "",
    ]
    for rule in record.gate_rules():
        out.append(
            f"- **{_one_line(str(rule['title']))}**: {str(rule['status']).replace('_', ' ')} — "
            f"{_one_line(str(rule['message']))}"
        )
        for entry in rule.get("blocking", [])[:20]:
            if entry.get("type") == "item":
                out.append(f"  - blocking item {_code(entry['key'])}: {_one_line(entry['text'])}")
            elif entry.get("type") == "finding":
                out.append(
                    f"  - blocking finding #{entry['finding']} ({entry['severity']}): "
                    f"{_one_line(entry['title'])}"
                )
        override = rule.get("override")
        if override:
            out.append(
                f"  - overridden by {_one_line(override['granted_by'])}: "
                f"{_one_line(override['justification'])} ({override['expiry']})"
            )
    out += ["", "## Overrides", ""]
    for o in record.overrides:
        out.append(
            f"- {_one_line(o.title)} — {o.status}: granted by {_one_line(o.granted_by)} "
            f"({_one_line(o.granted_by_email)}) at {when(o.granted_at)}, {_expiry(o.expires_at)}."
            f" Justification: {_one_line(o.justification)}"
        )
    if not record.overrides:
        out.append("None.")
    out += ["", "## Sign-offs", ""]
    for so in record.signoffs:
        state = f"stale ({_one_line(so.stale_reason)})" if so.stale else "current"
        out.append(
            f"- {_one_line(so.user)} ({_one_line(so.email)}), {so.role}: {so.decision_text} "
            f"at {when(so.created_at)} — {state}"
        )
        if so.comment:
            out.append(f"  - Comment: {_one_line(so.comment)}")
    if not record.signoffs:
        out.append("None.")
    return out


def _parse(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _load(review: Review) -> Review:
    return Review.objects.select_related("spec__project", "spec__author").get(pk=review.pk)


def render_markdown(review: Review) -> str:
    """The report in Markdown: the same for every reader."""
    review = _load(review)
    versions = list(review.review_templates.select_related("version__template"))
    progress = review_progress(review)
    record = approval_record(review)
    findings = list(findings_for_review(review))
    responses = list(responses_for_review(review))
    spec = review.spec

    out = [f"# Review #{review.pk}: {_one_line(spec.title)}", ""]
    out += [
        "## Summary",
        "",
        f"- Project: {_one_line(spec.project.name)}",
        f"- Spec: {_one_line(spec.title)}" + (_link(spec.link) if spec.link else ""),
        f"- Revision: {_one_line(spec.revision_label)}",
        f"- State: {review.get_state_display()}",
        "- Checklists: "
        + ", ".join(
            f"{_one_line(link.version.template.title)} v{link.version.number}" for link in versions
        ),
        f"- Progress: {progress['answered']} of {progress['total']} answered "
        f"({progress['pass']} pass, {progress['fail']} fail, {progress['na']} n/a, "
        f"{progress['unanswered']} open)",
    ]
    if review.due_date:
        out.append(f"- Due: {review.due_date.isoformat()}")
    out += _record_markdown(record)
    out += ["", "## Findings", ""]
    for severity, heading in SEVERITY_HEADINGS:
        group = [f for f in findings if f.severity == severity]
        out += [f"### {heading} ({len(group)})", ""]
        if not group:
            out += ["None.", ""]
            continue
        for finding in group:
            out.append(f"#### #{finding.pk} {_one_line(finding.title)}")
            out.append("")
            for label, value in (
                ("Location", finding.location),
                ("Impact", finding.impact),
                ("Recommendation", finding.recommendation),
                ("Verification", finding.verification),
            ):
                if value:
                    out.append(f"- {label}: {_one_line(value)}")
            if finding.item_id:
                out.append(f"- Item: {_code(finding.item.key)}")
            status = finding.get_status_display()
            if finding.resolution_note:
                status += f" — {_one_line(finding.resolution_note)}"
            out.append(f"- Status: {status}")
            out.append(f"- Raised by: {_one_line(finding.raised_by.email)}")
            out.append("")
    out += ["## Checklist", ""]
    current_template = current_section = current_group = None
    for response in responses:
        item = response.item
        template = f"{item.version.template.title} v{item.version.number}"
        section, group = _section_and_group(item)
        if template != current_template:
            out += [f"### {_one_line(template)}", ""]
            current_template, current_section, current_group = template, None, None
        if section != current_section:
            out += ["", f"#### {_one_line(section)}", ""]
            current_section, current_group = section, None
        if group and group != current_group:
            out += ["", f"**{_one_line(group)}**", ""]
            current_group = group
        flags = [item.get_severity_display().lower()]
        if item.is_gate:
            flags.append("gate")
        line = (
            f"- {VERDICT_MARKS.get(response.verdict, response.verdict)} "
            f"{_code(item.key)} {_one_line(item.text)} ({', '.join(flags)})"
        )
        if response.needs_recheck:
            line += " — re-check"
        out.append(line)
        if response.note:
            out.append(f"  - Note: {_one_line(response.note)}")
    out.append("")
    return "\n".join(out)


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection)."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def _csv_record_rows(record: ApprovalRecord) -> list[dict]:
    """The approval record as CSV rows (``record`` says which kind), before the items."""
    rows = [
        {
            "record": "approval",
            "status": record.state,
            "by": record.approved_by_email,
            "at": record.approved_at.isoformat() if record.approved_at else "",
            "detail": record.comment,
        },
        {
            "record": "gate",
            "status": "ready" if record.gate.get("ready") else "blocked",
            "detail": "as it stood at the approval" if record.gate_as_of == "approval" else "now",
        },
    ]
    for rule in record.gate.get("rules", []):
        override = rule.get("override") or {}
        rows.append(
            {
                "record": "gate_rule",
                "rule": rule["rule"],
                "status": rule["status"],
                "by": override.get("granted_by", ""),
                "expires_at": override.get("expires_at") or "",
                "detail": rule["message"],
            }
        )
    for o in record.overrides:
        rows.append(
            {
                "record": "override",
                "rule": o.rule,
                "status": o.status,
                "by": o.granted_by_email,
                "at": o.granted_at.isoformat(),
                "expires_at": o.expires_at.isoformat() if o.expires_at else "",
                "detail": o.justification,
            }
        )
    for so in record.signoffs:
        rows.append(
            {
                "record": "signoff",
                "status": "stale" if so.stale else "current",
                "decision": so.decision,
                "by": so.email,
                "at": so.created_at.isoformat(),
                "stale_reason": so.stale_reason,
                "detail": so.comment,
            }
        )
    return rows


def render_csv(review: Review) -> str:
    """The report as CSV: the approval record's rows, then one row per item (``record`` names
    the kind of each row). The same for every reader."""
    review = _load(review)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, restval="")
    writer.writeheader()
    for row in _csv_record_rows(approval_record(review)):
        writer.writerow({key: _csv_safe(str(value)) for key, value in row.items()})
    for response in responses_for_review(review):
        item = response.item
        section, group = _section_and_group(item)
        writer.writerow(
            {
                "record": "item",
                "template": _csv_safe(item.version.template.slug),
                "section": _csv_safe(section),
                "group": _csv_safe(group),
                "key": item.key,
                "text": _csv_safe(item.text),
                "severity": item.severity,
                "gate": "yes" if item.is_gate else "no",
                "verdict": response.verdict,
                "note": _csv_safe(response.note),
                "answered_by": response.answered_by.email if response.answered_by_id else "",
                "answered_at": response.answered_at.isoformat() if response.answered_at else "",
                "detail": _csv_safe(response.reset_reason),
            }
        )
    return buffer.getvalue()
