"""Parts of the review page rendered in Python: lists that repeat the same markup many times
cost ~30 µs a line through the template engine and a few µs here. Every piece of text goes
through ``escape``; nothing here is cached across requests except the HTML of unbound forms,
which depends on nothing but the code (and the language)."""

from html import escape  # the stdlib one (see ``rows``)

from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from reviews.views.rows import LABEL_LENGTH, csrf_input, truncate


def review_rows_html(reviews, empty: str = "") -> SafeString:
    """The lines of a list of reviews (dashboard, project, spec): number and spec title linking
    to the review, state, due date and, where the view set ``progress``, the answered share.
    ``empty`` is the muted line shown when there is no review (none when blank)."""
    if not reviews:
        return mark_safe(f'<li class="muted">{escape(empty)}</li>' if empty else "")  # noqa: S308
    prefix = reverse("reviews:review", args=[0])[:-2]
    parts = []
    for r in reviews:
        line = (
            f'<li class="review-row"><a href="{prefix}{r.pk}/">#{r.pk} {escape(r.spec.title)}</a>'
            f'\n  <span class="state state-{escape(r.state)}">'
            f"{escape(str(r.get_state_display()))}</span>\n  "
        )
        if r.due_date:
            line += f'<span class="due muted">due {r.due_date.isoformat()}</span>'
        line += "\n  "
        progress = getattr(r, "progress", None)
        if progress:
            total, answered = progress["total"], progress["answered"]
            fail = f" · {progress['fail']} fail" if progress["fail"] else ""
            line += (
                f'<progress max="{total or 1}" value="{answered}" aria-label="Progress of '
                f'review {r.pk}">{progress["percent"]}%</progress>\n  <span class="muted">'
                f"{answered}/{total}{fail}</span>"
            )
        parts.append(line + "\n</li>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def section_options(outline) -> SafeString:
    """The ``<option>``s of the "assign to section" choice (titles cut at 50 characters)."""
    options = [
        f'<option value="{sec["id"]}">{escape(truncate(sec["title"], 50))}</option>'
        for tpl in outline.templates
        for sec in tpl["sections"]
    ]
    return mark_safe("".join(options))  # noqa: S308 - titles escaped, ids are numbers


_UNBOUND: dict[tuple, SafeString] = {}


def form_html(form) -> SafeString:
    """``form.as_div()``; given a form class, the markup of a new (unbound) form of it, which
    is always the same: rendered once per process and language."""
    if not isinstance(form, type):
        return form.as_div()
    key = (form, translation.get_language())
    html = _UNBOUND.get(key)
    if html is None:
        html = _UNBOUND[key] = form().as_div()
    return html


def linebreaksbr(text: str) -> str:
    """The ``linebreaksbr`` filter (escaping)."""
    return escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def item_link(item_id: int, text: str, key: str) -> str:
    """A link to an item's row named by its text (cut; the whole text, and the key for
    curators, in the title)."""
    return (
        f'<a href="?item={item_id}#item-{item_id}" data-item-link="{item_id}" '
        f'title="{escape(text)} (key: {escape(key)})">{escape(truncate(text, LABEL_LENGTH))}</a>'
    )


def gate_panel_html(gate) -> SafeString:
    """The gate panel: every rule with its status, message, the first ten items or findings
    that block it (linked) and its override."""
    state = (
        '<span class="ok">ready</span>' if gate.ready else '<span class="blocked">blocked</span>'
    )
    parts = [f'<h2 id="gate-title">Gate: {state}</h2><ul class="rules">']
    for rule in gate.rules:
        status = "not applicable" if rule.status == "not_applicable" else rule.status
        parts.append(
            f'<li class="rule rule-{escape(rule.status)}"><strong>{escape(str(rule.title))}'
            f'</strong> <span class="status">{escape(status)}</span>'
            f'<div class="muted">{escape(str(rule.message))}</div>'
        )
        if rule.blocking:
            parts.append('<ul class="blocking">')
            for entry in rule.blocking[:10]:
                if entry.get("type") == "item":
                    item = int(entry["item"])
                    parts.append(f"<li>{item_link(item, entry['text'], entry['key'])}</li>")
                elif entry.get("type") == "finding":
                    finding = int(entry["finding"])
                    parts.append(
                        f'<li><a href="#finding-{finding}">Finding #{finding}</a> '
                        f"{escape(entry['title'])}</li>"
                    )
            if rule.blocking_count > 10:
                parts.append(f'<li class="muted">… and {int(rule.blocking_count) - 10} more</li>')
            parts.append("</ul>")
        if rule.override:
            parts.append(
                f'<div class="override">Overridden by {escape(str(rule.override["granted_by"]))}: '
                f"{escape(rule.override['justification'])}</div>"
            )
        parts.append("</li>")
    parts.append("</ul>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


_RESOLVE_FORM = (
    '<label for="resolve-status-{pk}">Close as</label>'
    '<select id="resolve-status-{pk}" name="status"><option value="resolved">Resolved</option>'
    '<option value="wont_fix">Won\'t fix</option></select>'
    '<label for="resolve-note-{pk}">Note (required)</label>'
    '<textarea id="resolve-note-{pk}" name="note" rows="1" required></textarea>'
    '<button type="submit">Close finding</button>'
)


def findings_html(findings, review, csrf_token: str) -> SafeString:
    """The findings list: each finding's fields, and the form that closes or reopens it for
    whoever may."""
    if not findings:
        return mark_safe('<li class="muted">No findings.</li>')
    csrf = csrf_input(csrf_token)
    parts = []
    for f in findings:
        pk = int(f.pk)
        severity, status = escape(f.severity), escape(f.status)
        parts.append(
            f'<li id="finding-{pk}" class="finding sev-{severity} status-{status}"><h3>'
            f'<span class="badge sev-{severity}">{escape(str(f.get_severity_display))}</span> '
            f"#{pk} {escape(f.title)} "
            f'<span class="status">{escape(str(f.get_status_display))}</span></h3><dl>'
        )
        if f.item:
            item = int(f.item_id)
            parts.append(f"<dt>Item</dt><dd>{item_link(item, f.item.text, f.item.key)}</dd>")
        if f.location:
            parts.append(f"<dt>Location</dt><dd>{escape(f.location)}</dd>")
        for label, text in (
            ("Impact", f.impact),
            ("Recommendation", f.recommendation),
            ("Verification", f.verification),
        ):
            if text:
                parts.append(f"<dt>{label}</dt><dd>{linebreaksbr(text)}</dd>")
        parts.append(f"<dt>Raised by</dt><dd>{escape(f.raised_by.label)}</dd>")
        if f.resolution_note:
            by = f" ({escape(f.resolved_by.label)})" if f.resolved_by else ""
            parts.append(f"<dt>Resolution</dt><dd>{escape(f.resolution_note)}{by}</dd>")
        parts.append("</dl>")
        if f.can_resolve:
            if f.status == "open":
                url = reverse("reviews:finding_resolve", args=[review.pk, pk])
                parts.append(
                    f'<form method="post" action="{url}" class="resolve">{csrf}'
                    f"{_RESOLVE_FORM.format(pk=pk)}</form>"
                )
            else:
                url = reverse("reviews:finding_reopen", args=[review.pk, pk])
                parts.append(
                    f'<form method="post" action="{url}" class="reopen">{csrf}'
                    '<button type="submit">Reopen finding</button></form>'
                )
        parts.append("</li>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
