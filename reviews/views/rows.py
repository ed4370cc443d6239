"""The item row of the review page, rendered in Python.

A review can hold 1,000+ items; rendering each row through the template engine costs about
0.7 ms, so the page and the AJAX answer endpoint share this small renderer instead. Every
piece of user or checklist text goes through ``escape``.
"""

from html import escape  # the stdlib one: Django's adds a lazy wrapper per call

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from reviews.models import Verdict

VERDICT_LABELS = dict(Verdict.choices)
CHOICES = (("pass", "vp", "Pass"), ("fail", "vf", "Fail"), ("na", "vn", "N/A"))
# Where a row's CSRF field goes in HTML that is cached and shared between requests: each
# request puts its own token in (``fill_csrf``). Rows escape every piece of text, so no text can
# forge this marker.
CSRF_SLOT = "<!--csrf-->"
LABEL_LENGTH = 60  # an item's text where it names the item (labels, links), cut here


def truncate(text: str, length: int) -> str:
    """The ``truncatechars`` filter, without its cost for text that fits."""
    return text if len(text) <= length else Truncator(text).chars(length)


def csrf_input(token: str) -> str:
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(token or ""))}">'


def fill_csrf(html: str, token: str) -> SafeString:
    """Rows rendered with ``csrf_token=None`` (shareable) with this request's token in."""
    return mark_safe(html.replace(CSRF_SLOT, csrf_input(token)))  # noqa: S308 - escaped token


class RowRenderer:
    """Renders item rows. With ``csrf_token=None`` the rows carry ``CSRF_SLOT`` instead of a
    token, so that the HTML can be cached and served to other requests (``fill_csrf``)."""

    def __init__(
        self, review, *, can_answer: bool, csrf_token: str | None, filter_mode: str = "all"
    ):
        self.review_url = reverse("reviews:review", args=[review.pk])
        self.answer_prefix = reverse("reviews:answer", args=[review.pk, 0])[:-2]
        self.finding_url = reverse("reviews:finding_new", args=[review.pk])
        self.can_answer = can_answer
        self.csrf = CSRF_SLOT if csrf_token is None else csrf_input(csrf_token)
        self.filter_input = (
            f'<input type="hidden" name="filter" value="{escape(filter_mode)}">'
            if filter_mode != "all"
            else ""
        )

    def render(self, r) -> SafeString:
        item = r.item
        iid = r.item_id
        key = escape(item.key)
        name = escape(truncate(item.text, LABEL_LENGTH))  # what screen readers hear the item called
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
        save = ""
        if self.can_answer:  # who may answer may raise findings (reviewers and leads)
            save = (
                '<button type="submit" class="save">Save</button> <a class="raise-finding" '
                f'href="{self.finding_url}?item={iid}#raise-finding">Raise finding</a>'
            )
        readonly = "" if self.can_answer else " readonly"
        extra = ""
        if conflict:
            extra += self._conflict(iid, conflict)
        when = r.answered_at.strftime("%Y-%m-%d %H:%M") if r.answered_at else ""
        if r.answered_by_id:
            extra += (
                f'<p class="answered muted">{escape(str(VERDICT_LABELS.get(r.verdict, r.verdict)))} · '
                f"{escape(r.answered_by.label)} · {when}</p>"
            )
        elif r.needs_recheck and r.reset_reason:
            # Put back by the system, not by a person: say what did it.
            extra += (
                f'<p class="answered muted">Back to re-check · {escape(r.reset_reason)} · '
                f"{when}</p>"
            )
        return mark_safe(  # noqa: S308 - every dynamic part above is escaped
            f'<li class="{classes}" id="item-{iid}" data-item="{iid}" tabindex="-1">'
            # The action's fragment brings the page back to the item when the server answers
            # with the page itself (an error without JavaScript), not with a redirect.
            f'<form method="post" action="{self.answer_prefix}{iid}/#item-{iid}" class="answer" '
            f'data-optional="{1 if item.optional else 0}">'
            f"{self.csrf}"
            f'<input type="hidden" name="version" value="{r.version}">{self.filter_input}'
            f'<p class="item-head"><span class="item-text">{escape(item.text)}</span>{badges} '
            # The key is for curators and integrations: there on demand, not a label.
            f'<details class="item-key"><summary>key</summary><code>{key}</code></details>'
            f"</p>{guidance}"
            f'<div class="answer-row"><fieldset class="verdicts"><legend class="sr-only">'
            f"Verdict for {name}</legend>{radios}</fieldset>"
            f'<label class="note"><span class="sr-only">Note for {name}</span>'
            f'<textarea name="note" rows="1" maxlength="10000" placeholder="Note ({hint})" '
            f'aria-describedby="err-{iid}"{readonly}>{escape(r.note)}</textarea></label>'
            f"{save}</div>"
            f'<p class="field-error" id="err-{iid}">{escape(str(error))}</p>{extra}'
            "</form></li>"
        )

    def _conflict(self, iid: int, conflict: dict) -> str:
        """The other person's newer answer, and the reader's two choices: keep theirs (the page
        afresh) or overwrite with mine (a save carrying their version; the form's own Save
        keeps the reader's older version, so it meets the conflict again)."""
        who = escape(conflict["who"])
        verdict = conflict.get("verdict") or ""
        note = conflict.get("note") or ""
        theirs = escape(str(conflict.get("verdict_label", "")))
        # Their note is quoted as written: no full stop after its own closing quote.
        theirs += f" — “{escape(note)}”" if note else "."
        version = int(conflict.get("version") or 0)
        return (
            f'<div class="conflict" role="alert" data-who="{who}" data-verdict="{escape(verdict)}"'
            f' data-note="{escape(note)}" data-version="{version}"><strong>{who} changed this '
            f"meanwhile:</strong> {theirs} Your input is kept above; choose: "
            f'<a href="{self.review_url}?item={iid}#item-{iid}" class="keep-theirs">Keep theirs'
            f'</a> <button type="submit" name="overwrite" value="{version}" class="overwrite">'
            "Overwrite with mine</button></div>"
        )


def counts_html(p: dict | None) -> str:
    """``reviews/_counts.html`` for one progress dict (numbers only: nothing to escape)."""
    p = p or {}
    return (
        f'<span class="c-pass">{p.get("pass", 0)} pass</span> · '
        f'<span class="c-fail">{p.get("fail", 0)} fail</span> · '
        f'<span class="c-na">{p.get("na", 0)} N/A</span> · '
        f'<span class="c-open">{p.get("unanswered", 0)} open</span> '
        f'<span class="muted">({p.get("answered", 0)}/{p.get("total", 0)})</span>'
    )


def section_summary(section, progress: dict | None) -> SafeString:
    """The ``<summary>`` of a section on the review page: title, progress bar and counts."""
    p = progress or {}
    pk = section.pk
    title = escape(section.title)
    return mark_safe(  # noqa: S308 - the title is escaped, the rest are numbers
        f'<span class="section-title">{title}</span> '
        f'<progress data-progress="section-{pk}" max="{p.get("total") or 1}" '
        f'value="{p.get("answered", 0)}" aria-label="Progress of {title}">'
        f"{p.get('percent', 0)}%</progress> "
        f'<span class="counts" data-counts="section-{pk}">{counts_html(progress)}</span>'
    )


def collapsed_section_html(
    section, progress: dict | None, size: int, src: str, *, query="", what="", extra=""
) -> SafeString:
    """A section whose rows are not on the page: its summary, and a link that opens the page
    with it (the page script fetches ``src`` instead when it is opened). With a filter:
    ``query`` keeps it on the link (``filter=open&``), ``what`` names the items ("open "),
    ``extra`` (safe HTML) follows the summary."""
    pk = section.pk
    plural = "" if size == 1 else "s"
    return mark_safe(  # noqa: S308 - section_summary escapes; the rest are numbers and URLs
        f'<details class="section" id="section-{pk}" data-section="{pk}" data-src="{src}">'
        f"<summary>{section_summary(section, progress)}{extra}</summary>"
        f'<div class="section-body"><p class="load-section"><a href="?{escape(query)}'
        f'section={pk}#section-{pk}">Show the {size} {escape(what)}item{plural} of this section'
        "</a></p></div></details>"
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
    "item__section__title",
    "item__section__parent_id",
    "item__section__parent__title",
    "item__version__number",
    "item__version__title",
    "item__version__template__title",
    "reset_reason",  # 26
)


class _Version(_Obj):
    @property
    def display_title(self) -> str:
        return self.title or self.template_title


def _row_query(review, top_section_ids=None):
    from django.db.models import Q

    from reviews.models import Response

    rows = Response.objects.filter(review_id=review.pk)
    if top_section_ids is not None:
        rows = rows.filter(
            Q(item__section_id__in=top_section_ids)
            | Q(item__section__parent_id__in=top_section_ids)
        )
    return rows.order_by("item__version_id", "item__position").values_list(*ROW_FIELDS)


class Rows:
    """Every answer of the review with its item, section (and group parent), version and
    answerer, in checklist order — one query whatever the size of the review. The rows stay
    tuples until a page needs them as objects (``row``), so rows that are not rendered cost
    next to nothing."""

    def __init__(self, review, top_section_ids=None):
        self.values = list(_row_query(review, top_section_ids))
        self._versions: dict[int, _Version] = {}
        self._sections: dict[int, _Obj] = {}
        self._users: dict[int, _User] = {}

    def __len__(self) -> int:
        return len(self.values)

    def version(self, values) -> _Version:
        version_id = values[15]
        version = self._versions.get(version_id)
        if version is None:
            version = self._versions[version_id] = _Version(
                pk=version_id, id=version_id, number=values[23], title=values[24],
                template_title=values[25],
            )  # fmt: skip
        return version

    def section(self, values) -> _Obj:
        section_id, parent_id = values[14], values[21]
        section = self._sections.get(section_id)
        if section is None:
            parent = None
            if parent_id is not None:
                parent = self._sections.get(parent_id)
                if parent is None:
                    parent = self._sections[parent_id] = _Obj(
                        pk=parent_id, id=parent_id, title=values[22], parent_id=None, parent=None
                    )
            section = self._sections[section_id] = _Obj(
                pk=section_id, id=section_id, title=values[20], parent_id=parent_id, parent=parent
            )
        return section

    def top_section(self, values) -> _Obj:
        section = self.section(values)
        return section.parent or section

    def row(self, values) -> _Obj:
        (item_id, verdict, note, recheck, by_id, at, version, key, text, guidance, rationale,
         severity, is_gate, optional, section_id, version_id, email, display, first, last,
         *_) = values  # fmt: skip
        user = None
        if by_id is not None:
            user = self._users.get(by_id)
            if user is None:
                user = self._users[by_id] = _User(
                    pk=by_id, email=email, display_name=display, first_name=first, last_name=last
                )
        item = _Obj(
            pk=item_id, id=item_id, key=key, text=text, guidance=guidance, rationale=rationale,
            severity=severity, is_gate=is_gate, optional=optional, section=self.section(values),
            section_id=section_id, version=self.version(values), version_id=version_id,
        )  # fmt: skip
        return _Obj(
            item_id=item_id,
            item=item,
            verdict=verdict,
            note=note,
            needs_recheck=recheck,
            verdict_label=VERDICT_LABELS.get(verdict, verdict),
            answered_by_id=by_id,
            answered_by=user,
            answered_at=at,
            version=version,
            reset_reason=values[26],
        )

    def gate_rows(self) -> list[tuple]:
        """The rows as the gate reads them (tuples shaped as ``reviews.gate.ItemRow``)."""
        return [
            (v[0], v[7], v[8], v[1], v[2] == "", v[12], v[11], v[13], v[14], v[21])
            for v in self.values
        ]


def load_rows(review) -> list:
    """Every answer of the review as row objects (one query)."""
    rows = Rows(review)
    return [rows.row(values) for values in rows.values]
