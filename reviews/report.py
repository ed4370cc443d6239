"""The review report: Markdown (for people and the API) and CSV (one row per item).

Both read a constant number of queries whatever the size of the review.
"""

import csv
import io
import re

from reviews.gate import evaluate_gate
from reviews.models import FindingSeverity, Review, Verdict
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


def _load(review: Review) -> Review:
    return Review.objects.select_related("spec__project", "spec__author").get(pk=review.pk)


def render_markdown(review: Review, user=None) -> str:
    review = _load(review)
    versions = list(review.review_templates.select_related("version__template"))
    progress = review_progress(review)
    gate = evaluate_gate(review, user)
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
    out += ["", "## Gate", "", f"Ready for development: {'yes' if gate.ready else 'no'}", ""]
    for rule in gate.rules:
        out.append(
            f"- **{rule.title}**: {rule.status.replace('_', ' ')} — {_one_line(rule.message)}"
        )
        for entry in rule.blocking[:20]:
            if entry.get("type") == "item":
                out.append(f"  - blocking item {_code(entry['key'])}: {_one_line(entry['text'])}")
            elif entry.get("type") == "finding":
                out.append(
                    f"  - blocking finding #{entry['finding']} ({entry['severity']}): "
                    f"{_one_line(entry['title'])}"
                )
        if rule.override:
            out.append(
                f"  - overridden by {_one_line(rule.override['granted_by'])}: "
                f"{_one_line(rule.override['justification'])}"
            )
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


def render_csv(review: Review) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for response in responses_for_review(review):
        item = response.item
        section, group = _section_and_group(item)
        writer.writerow(
            [
                _csv_safe(item.version.template.slug),
                _csv_safe(section),
                _csv_safe(group),
                item.key,
                _csv_safe(item.text),
                item.severity,
                "yes" if item.is_gate else "no",
                response.verdict,
                _csv_safe(response.note),
                response.answered_by.email if response.answered_by_id else "",
                response.answered_at.isoformat() if response.answered_at else "",
            ]
        )
    return buffer.getvalue()
