"""The item row of the review page, rendered in Python.

A review can hold 1,000+ items; rendering each row through the template engine costs about
0.7 ms, so the page and the AJAX answer endpoint share this small renderer instead. Every
piece of user or checklist text goes through ``escape``.
"""

from html import escape  # the stdlib one: Django's adds a lazy wrapper per call

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from reviews.models import Verdict

VERDICT_LABELS = dict(Verdict.choices)
CHOICES = (("pass", "vp", "Pass"), ("fail", "vf", "Fail"), ("na", "vn", "N/A"))


class RowRenderer:
    def __init__(self, review, *, can_answer: bool, csrf_token: str, filter_mode: str = "all"):
        self.review_url = reverse("reviews:review", args=[review.pk])
        self.answer_prefix = reverse("reviews:answer", args=[review.pk, 0])[:-2]
        self.can_answer = can_answer
        self.csrf = escape(str(csrf_token or ""))
        self.filter_input = (
            f'<input type="hidden" name="filter" value="{escape(filter_mode)}">'
            if filter_mode != "all"
            else ""
        )

    def render(self, r) -> SafeString:
        item = r.item
        iid = r.item_id
        key = escape(item.key)
        disabled = "" if self.can_answer else " disabled"
        classes = f"item v-{r.verdict}"
        if r.needs_recheck:
            classes += " recheck"
        error = getattr(r, "error", "") or ""
        conflict = getattr(r, "conflict", None)
        if error or conflict:
            classes += " has-error"
        badges = f' <span class="badge sev-{item.severity}">{item.severity}</span>'
        if item.is_gate:
            badges += ' <span class="badge gate">gate</span>'
        if item.optional:
            badges += ' <span class="badge">if applicable</span>'
        if r.needs_recheck:
            badges += ' <span class="badge recheck">re-check</span>'
        guidance = ""
        if item.guidance or item.rationale:
            guidance = '<details class="guidance"><summary>Guidance</summary>'
            if item.guidance:
                guidance += "<p>" + escape(item.guidance).replace("\n", "<br>") + "</p>"
            if item.rationale:
                guidance += f"<p><strong>Why it matters:</strong> {escape(item.rationale)}</p>"
            guidance += "</details>"
        radios = "".join(
            f'<label class="{cls}"><input type="radio" name="verdict" value="{value}"'
            f"{' checked' if r.verdict == value else ''}{disabled}> {label}</label>"
            for value, cls, label in CHOICES
        )
        hint = "required for fail" if item.optional else "required for fail or N/A"
        save = '<button type="submit" class="save">Save</button>' if self.can_answer else ""
        readonly = "" if self.can_answer else " readonly"
        extra = ""
        if conflict:
            theirs = escape(str(conflict.get("verdict_label", "")))
            if conflict.get("note"):
                theirs += f" — “{escape(conflict['note'])}”"
            extra += (
                f'<div class="conflict" role="alert"><strong>{escape(conflict["who"])} changed '
                f"this meanwhile:</strong> {theirs}. Your input is kept: "
                f'<a href="{self.review_url}#item-{iid}">keep theirs</a> or save to overwrite '
                "with yours.</div>"
            )
        if r.answered_by_id:
            when = r.answered_at.strftime("%Y-%m-%d %H:%M") if r.answered_at else ""
            extra += (
                f'<p class="answered muted">{escape(str(VERDICT_LABELS.get(r.verdict, r.verdict)))} · '
                f"{escape(r.answered_by.label)} · {when}</p>"
            )
        return mark_safe(  # noqa: S308 - every dynamic part above is escaped
            f'<li class="{classes}" id="item-{iid}" data-item="{iid}" tabindex="-1">'
            f'<form method="post" action="{self.answer_prefix}{iid}/" class="answer" '
            f'data-optional="{1 if item.optional else 0}">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{self.csrf}">'
            f'<input type="hidden" name="version" value="{r.version}">{self.filter_input}'
            f'<p class="item-head"><code class="item-key">{key}</code> '
            f'<span class="item-text">{escape(item.text)}</span>{badges}</p>{guidance}'
            f'<div class="answer-row"><fieldset class="verdicts"><legend class="sr-only">'
            f"Verdict for {key}</legend>{radios}</fieldset>"
            f'<label class="note"><span class="sr-only">Note for {key}</span>'
            f'<textarea name="note" rows="1" maxlength="10000" placeholder="Note ({hint})" '
            f'aria-describedby="err-{iid}"{readonly}>{escape(r.note)}</textarea></label>'
            f"{save}</div>"
            f'<p class="field-error" id="err-{iid}">{escape(str(error))}</p>{extra}'
            "</form></li>"
        )


# --- light rows for the page -----------------------------------------------------------------


class _Obj:
    """A plain attribute bag: cheaper than a model instance when there are a thousand rows."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class _User(_Obj):
    @property
    def label(self) -> str:
        return self.display_name or f"{self.first_name} {self.last_name}".strip() or self.email


ROW_FIELDS = (
    "item_id",
    "verdict",
    "note",
    "needs_recheck",
    "answered_by_id",
    "answered_at",
    "version",
    "item__key",
    "item__text",
    "item__guidance",
    "item__rationale",
    "item__severity",
    "item__is_gate",
    "item__optional",
    "item__section_id",
    "item__version_id",
    "answered_by__email",
    "answered_by__display_name",
    "answered_by__first_name",
    "answered_by__last_name",
)


def load_rows(review) -> list:
    """Every answer of the review with its item, section (and group parent), version and
    answerer, in checklist order: three queries whatever the size of the review."""
    from checklists.models import Section, TemplateVersion
    from reviews.models import Response

    version_ids = review.review_templates.values("version_id")
    versions = {
        v.pk: v
        for v in TemplateVersion.objects.filter(pk__in=version_ids).select_related("template")
    }
    sections = {s.pk: s for s in Section.objects.filter(version__in=version_ids)}
    for section in sections.values():
        if section.parent_id:
            section.parent = sections.get(section.parent_id)
    users: dict[int, _User] = {}
    rows = []
    for values in (
        Response.objects.filter(review=review)
        .order_by("item__version_id", "item__position")
        .values_list(*ROW_FIELDS)
    ):
        (item_id, verdict, note, recheck, by_id, at, version, key, text, guidance, rationale,
         severity, is_gate, optional, section_id, version_id, email, display, first, last) = values  # fmt: skip
        if by_id is not None and by_id not in users:
            users[by_id] = _User(
                pk=by_id, email=email, display_name=display, first_name=first, last_name=last
            )
        section = sections[section_id]
        item = _Obj(
            pk=item_id, id=item_id, key=key, text=text, guidance=guidance, rationale=rationale,
            severity=severity, is_gate=is_gate, optional=optional, section=section,
            section_id=section_id, version=versions[version_id], version_id=version_id,
        )  # fmt: skip
        rows.append(
            _Obj(
                item_id=item_id,
                item=item,
                verdict=verdict,
                note=note,
                needs_recheck=recheck,
                verdict_label=VERDICT_LABELS.get(verdict, verdict),
                answered_by_id=by_id,
                answered_by=users.get(by_id),
                answered_at=at,
                version=version,
            )
        )
    return rows
