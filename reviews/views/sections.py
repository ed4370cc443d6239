"""The checklist column of the review page: every section's title and progress, the rows of the
sections that open with the page, the others collapsed and fetched when opened.

One narrow read of the answers (``page_rows``: no note, guidance or rationale) serves the
progress bars, the gate's item rules and the choice of the sections to render. The rendered
rows of a section are cached (``SectionFragments``), keyed by everything they show that can
change, so a key whose HTML was rendered from other data is never asked for:

- the review (id and creation time: a recreated database reuses ids, never both);
- the section and, per row shown, in order: the item, its group (id and title), the answer's
  verdict, re-check mark and ``version`` (every write of an answer increments it, so a new note
  or time moves it too) and the answerer (id and the name shown, which people may change);
- what the reader may do (answering or read-only rows), the filter (its hidden field), the
  URLs the rows post to, the language and time zone, and ``MARKUP_VERSION`` (a digest of the
  code that renders them, so a deployment never serves the markup of the one before).

What else a row shows (the item's key, text, guidance, severity...) belongs to a published
checklist version, which never changes (a change is a new version, with new item ids). The
cached HTML holds no CSRF token and no nonce: ``CSRF_SLOT`` is filled in per request.
Only the rows come from the cache; titles, progress and everything around them are live.
"""

import hashlib
import logging
from html import escape  # the stdlib one (see ``rows``)
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString

from reviews.gate import _BLOCKING_TEXT, _NOTE_EMPTY_FLAG, _ROW_FIELDS
from reviews.models import Response, Verdict
from reviews.views import speed
from reviews.views.reads import PreparedQuery
from reviews.views.rows import (
    RowRenderer,
    Rows,
    collapsed_section_html,
    fill_csrf,
    section_summary,
)

log = logging.getLogger(__name__)

# Rendering a row costs ~30 µs (a cached section costs next to nothing); a 1,000-item review
# renders the sections with open items up to about this many rows and leaves the others
# collapsed, loaded when opened.
SECTION_BUDGET = 150
CACHE_TIMEOUT = 6 * 3600
_HERE = Path(__file__).resolve().parent
try:
    MARKUP_VERSION = hashlib.blake2b(
        (_HERE / "rows.py").read_bytes() + (_HERE / "sections.py").read_bytes(), digest_size=6
    ).hexdigest()
except OSError:  # no sources next to the bytecode: bump by hand when the markup changes
    MARKUP_VERSION = "1"

# --- the narrow read ------------------------------------------------------------------------

# The first ten positions are a ``reviews.gate.ItemRow`` (the gate and the progress bars read
# these rows as they are); ``text`` is only filled in where the row can block the gate.
PAGE_FIELDS = (
    *_ROW_FIELDS,
    "needs_recheck",  # 10
    "answered_by_id",
    "version",
    "item__version_id",
    "item__section__title",
    "item__section__parent__title",  # 15
    "answered_by__email",
    "answered_by__display_name",
    "answered_by__first_name",
    "answered_by__last_name",
    "item__version__number",  # 20
    "item__version__title",
    "item__version__template__title",
)
_ITEM, _VERDICT, _SECTION, _PARENT, _RECHECK, _BY, _VERSION = 0, 3, 8, 9, 10, 11, 12
NO_MATCH = '<p class="muted">No items match this filter.</p>'


def _page_query(review_id):
    return (
        Response.objects.filter(review_id=review_id)
        .annotate(_text=_BLOCKING_TEXT, _note_empty=_NOTE_EMPTY_FLAG)
        .order_by("item__version_id", "item__position")
        .values_list(*PAGE_FIELDS)
    )


_PAGE_QUERY = PreparedQuery(_page_query)


def page_rows(review) -> list[tuple]:
    """Every answer of the review, narrow, in checklist order: one query."""
    return _PAGE_QUERY.rows(review.pk)


def _label(email, display, first, last) -> str:
    """``User.label`` from its columns."""
    return display or f"{first} {last}".strip() or email


def _is_open(row) -> bool:
    return row[_VERDICT] == Verdict.UNANSWERED or bool(row[_RECHECK])


def keep(row, mode: str, user_id) -> bool:
    """Whether the filter ``mode`` shows a page row."""
    if mode == "open":
        return _is_open(row)
    if mode == "failed":
        return row[_VERDICT] == Verdict.FAIL
    if mode == "mine":
        return row[_BY] == user_id
    return True


# --- the outline: templates → sections, with progress ------------------------------------------


def _progress(counts: dict) -> dict:
    """``selectors.progress_from_rows``'s shape, from counts by verdict."""
    total = sum(counts.values())
    answered = total - counts["unanswered"]
    return {
        "total": total,
        "answered": answered,
        **counts,
        "percent": round(100 * answered / total) if total else 0,
    }


class Outline:
    """The page rows grouped by checklist version and top section (no query), with every
    section's progress and open count, and the overall progress."""

    def __init__(self, rows: list[tuple]):
        self.rows = rows
        self.templates: list[dict] = []
        self.sections: dict[int, dict] = {}
        templates: dict[int, dict] = {}
        overall = {"pass": 0, "fail": 0, "na": 0, "unanswered": 0}
        for row in rows:
            parent = row[_PARENT]
            top = parent or row[_SECTION]
            sec = self.sections.get(top)
            if sec is None:
                tpl = templates.get(row[13])
                if tpl is None:
                    tpl = templates[row[13]] = {
                        "id": row[13],
                        "number": row[20],
                        "title": row[21] or row[22],
                        "sections": [],
                    }
                    self.templates.append(tpl)
                sec = self.sections[top] = {
                    "id": top,
                    "title": row[15] if parent else row[14],
                    "rows": [],
                    "open": 0,
                    "counts": {"pass": 0, "fail": 0, "na": 0, "unanswered": 0},
                }
                tpl["sections"].append(sec)
            sec["rows"].append(row)
            verdict = row[_VERDICT]
            counts = sec["counts"]
            counts[verdict] = counts.get(verdict, 0) + 1
            overall[verdict] = overall.get(verdict, 0) + 1
            if verdict == Verdict.UNANSWERED or row[_RECHECK]:
                sec["open"] += 1
        for sec in self.sections.values():
            sec["progress"] = _progress(sec.pop("counts"))
        self.progress = _progress(overall)

    def section_of(self, item_id: int) -> int | None:
        for row in self.rows:
            if row[_ITEM] == item_id:
                return row[_PARENT] or row[_SECTION]
        return None


# --- the cache ----------------------------------------------------------------------------------


def _key_rows_from_page(rows) -> list[tuple]:
    """What a shown row contributes to its section's key, from page rows."""
    return [
        (
            r[_ITEM],
            r[_SECTION] if r[_PARENT] else None,
            r[14] if r[_PARENT] else None,
            r[_VERDICT],
            bool(r[_RECHECK]),
            r[_VERSION],
            r[_BY],
            _label(*r[16:20]) if r[_BY] else None,
        )
        for r in rows
    ]


def _key_rows_from_values(values) -> list[tuple]:
    """The same from ``rows.Rows`` values (``rows.ROW_FIELDS``)."""
    return [
        (
            v[0],
            v[14] if v[21] else None,
            v[20] if v[21] else None,
            v[1],
            bool(v[3]),
            v[6],
            v[4],
            _label(*v[16:20]) if v[4] else None,
        )
        for v in values
    ]


class SectionFragments:
    """The rendered rows of sections, for one review, one reader's rights and one filter."""

    def __init__(self, review, *, can_answer: bool, mode: str):
        self.review = review
        self.can_answer = can_answer
        self.mode = mode
        self.head = repr(
            (
                MARKUP_VERSION,
                translation.get_language(),
                settings.TIME_ZONE,
                review.pk,
                review.created_at.isoformat() if review.created_at else None,
                can_answer,
                mode,
                reverse("reviews:answer", args=[review.pk, 0]),
                reverse("reviews:review", args=[review.pk]),
            )
        )

    def key(self, section_id: int, key_rows: list[tuple]) -> str:
        material = f"{self.head}|{section_id}|{key_rows!r}".encode()
        digest = hashlib.blake2b(material, digest_size=20).hexdigest()
        return f"review-section:{self.review.pk}:{section_id}:{digest}"

    def get_many(self, keys) -> dict:
        if not keys:
            return {}
        try:
            return cache.get_many(keys)
        except Exception:  # a cache that is down only costs the rendering
            log.warning("review section cache unavailable", exc_info=True)
            return {}

    def set_many(self, entries: dict) -> None:
        if not entries:
            return
        try:
            cache.set_many(entries, timeout=CACHE_TIMEOUT)
        except Exception:
            log.warning("review section cache unavailable", exc_info=True)

    def render(self, rows: Rows, values, renderer: RowRenderer, overrides=None) -> str:
        """The ``section-body`` HTML of ``values`` (rows of one section), runs of rows in the
        same group under the group's heading."""
        overrides = overrides or {}
        if not values:
            return NO_MATCH
        parts = []
        group = 0  # no group is 0
        for v in values:
            gid = v[14] if v[21] else None
            if gid != group:
                if group != 0:
                    parts.append("</ol>")
                if gid is not None:
                    parts.append(f'<h4 class="group">{escape(v[20])}</h4>')
                parts.append('<ol class="items">')
                group = gid
            parts.append(renderer.render(overrides.get(v[0]) or rows.row(v)))
        parts.append("</ol>")
        return "".join(parts)


# --- the page -----------------------------------------------------------------------------------


def expand_from(request, outline: Outline):
    """The sections to render besides the default ones: ``?all=1``, ``?section=<id>`` and
    ``?item=<id>`` (the gate panel's links, without JavaScript)."""
    if request.GET.get("all") == "1":
        return "all"
    wanted = set()
    section = request.GET.get("section") or ""
    if section.isdigit():
        wanted.add(int(section))
    item = request.GET.get("item") or ""
    if item.isdigit():
        top = outline.section_of(int(item))
        if top is not None:
            wanted.add(top)
    return wanted


# What a filter shows, as the page says it: "12 open" on a section, "No open items." when none.
FILTER_WORDS = {"open": "open", "failed": "failed", "mine": "answered by you"}
FILTER_EMPTY = {
    "open": "No open items.",
    "failed": "No failed items.",
    "mine": "No items answered by you.",
}


def matching_counts(outline: Outline, mode: str, user_id) -> dict[int, int] | None:
    """Per section, how many of its rows the filter ``mode`` shows (None: no filter)."""
    if mode == "all":
        return None
    return {
        sid: sum(1 for r in sec["rows"] if keep(r, mode, user_id))
        for sid, sec in outline.sections.items()
    }


def _choose(outline: Outline, mode: str, expand, forced, matching=None) -> set[int]:
    """The sections rendered with the page: with ``?all=1`` every one; otherwise the first
    section with open items (with a filter: with matching items; the first section when none
    is open), the next ones with open (matching) items while their rows fit
    ``SECTION_BUDGET``, and the ones asked for."""
    sections = [sec for tpl in outline.templates for sec in tpl["sections"]]
    if expand == "all":
        return {sec["id"] for sec in sections}
    chosen = set(expand) | set(forced)
    if matching is not None:
        size_of = {sec["id"]: matching[sec["id"]] for sec in sections}
    else:
        size_of = {sec["id"]: len(sec["rows"]) if sec["open"] else 0 for sec in sections}
    first = next((sec for sec in sections if size_of[sec["id"]]), None)
    if first is None and matching is None and sections:
        first = sections[0]
    used = 0
    for sec in sections:
        size = size_of[sec["id"]]
        if sec is first or (used and size and used + size <= SECTION_BUDGET):
            chosen.add(sec["id"])
            used += size or len(sec["rows"])
    return chosen


def checklist_column(
    review,
    outline: Outline,
    *,
    mode,
    user,
    can_answer,
    csrf_token,
    expand=(),
    overrides=None,
    search=None,
) -> SafeString:
    """The HTML of every checklist of the review: its sections, open ones with their rows.
    ``overrides`` (item id → a row to show instead, with an error or a conflict) opens their
    sections, which are then rendered afresh and not cached. ``search`` (the ids of the items
    a search matched, or None) shows only those, in the sections that have some (``speed``)."""
    overrides = overrides or {}
    forced = {
        sec["id"]
        for sec in outline.sections.values()
        if overrides and any(r[_ITEM] in overrides for r in sec["rows"])
    }
    user_id = getattr(user, "pk", None)
    matching = matching_counts(outline, mode, user_id)
    if search is None:
        chosen = _choose(outline, mode, expand, forced, matching)
    else:
        chosen = speed.search_sections(outline, search, expand, forced, kept=_kept(mode, user_id))
    fragments = SectionFragments(review, can_answer=can_answer, mode=mode)
    shown: dict[int, list] = {}
    keys: dict[int, str] = {}
    bodies: dict[int, str] = {}
    for sid in chosen:
        sec = outline.sections.get(sid)
        if sec is None:
            continue
        kept = [
            r
            for r in sec["rows"]
            if r[_ITEM] in overrides
            or (keep(r, mode, user_id) and (search is None or r[_ITEM] in search))
        ]
        shown[sid] = kept
        if not kept:
            bodies[sid] = NO_MATCH
        elif sid not in forced:
            keys[sid] = fragments.key(sid, _key_rows_from_page(kept))
    cached = fragments.get_many(list(keys.values()))
    bodies.update((sid, cached[key]) for sid, key in keys.items() if key in cached)
    missing = [sid for sid in shown if sid not in bodies]
    if missing:
        rows = Rows(review, top_section_ids=missing)
        renderer = RowRenderer(review, can_answer=can_answer, csrf_token=None, filter_mode=mode)
        by_section: dict[int, list] = {sid: [] for sid in missing}
        for v in rows.values:
            by_section.setdefault(v[21] or v[14], []).append(v)
        fresh = {}
        for sid, values in by_section.items():
            # What the rows show now (they may be newer than the page rows: then they are
            # cached under the key of what they show, not under the older one).
            values = [
                v
                for v in values
                if v[0] in overrides
                or (_keep_values(v, mode, user_id) and (search is None or v[0] in search))
            ]
            bodies[sid] = fragments.render(rows, values, renderer, overrides)
            if sid not in forced:
                fresh[fragments.key(sid, _key_rows_from_values(values))] = bodies[sid]
        fragments.set_many(fresh)
    src_prefix = reverse("reviews:section_rows", args=[review.pk, 0])[:-2]
    # With a filter, the sections without a matching item are left out, the others say how
    # many they have, and the collapsed ones open filtered (script and plain link alike).
    query = f"filter={mode}&" if matching is not None else ""
    word = FILTER_WORDS.get(mode, "")
    parts = []
    tools = speed.section_tools(
        review,
        [
            {"id": sid, "title": sec["title"], "count": sec["progress"]["unanswered"]}
            for sid, sec in outline.sections.items()
            if sid in shown
        ],
        # "The rest of the section" is the whole section: offered where the page shows it all.
        can_answer=can_answer and mode == "all" and search is None,
    )
    for tpl in outline.templates:
        listed = [
            sec
            for sec in tpl["sections"]
            if matching is None or matching[sec["id"]] or sec["id"] in shown
        ]
        if not listed:
            continue
        title = escape(tpl["title"])
        parts.append(
            f'<section class="template" aria-label="{title}"><h2>{title} '
            f'<span class="muted">v{tpl["number"]}</span></h2>'
        )
        for sec in listed:
            sid = sec["id"]
            count = f'<span class="match-count">{matching[sid]} {word}</span>' if query else ""
            if sid not in shown:
                size = matching[sid] if query else len(sec["rows"])
                parts.append(
                    collapsed_section_html(
                        _Section(sid, sec["title"]),
                        sec["progress"],
                        size,
                        f"{src_prefix}{sid}/" + (f"?filter={mode}" if query else ""),
                        query=query,
                        what=f"{word} " if query else "",
                        extra=count,
                    )
                )
                continue
            summary = section_summary(_Section(sid, sec["title"]), sec["progress"])
            is_open = " open" if shown[sid] else ""
            parts.append(
                f'<details class="section" id="section-{sid}" data-section="{sid}"{is_open}>'
                f'<summary>{summary}{count}</summary><div class="section-body">{bodies[sid]}'
                f"{tools.get(sid, '')}</div></details>"
            )
        parts.append("</section>")
    if not parts:
        parts.append(f'<p class="no-match muted" role="status">{FILTER_EMPTY[mode]}</p>')
    return fill_csrf("".join(parts), csrf_token)


def _kept(mode: str, user_id):
    """``keep`` for one filter and reader."""
    return lambda row: keep(row, mode, user_id)


def _keep_values(v, mode: str, user_id) -> bool:
    """``keep`` for ``rows.Rows`` values."""
    if mode == "open":
        return v[1] == Verdict.UNANSWERED or bool(v[3])
    if mode == "failed":
        return v[1] == Verdict.FAIL
    if mode == "mine":
        return v[4] == user_id
    return True


class _Section:
    __slots__ = ("pk", "title")

    def __init__(self, pk, title):
        self.pk, self.title = pk, title


def section_fragment(
    review, section_id: int, *, can_answer: bool, csrf_token, mode: str = "all", user_id=None
) -> str | None:
    """The ``section-body`` HTML of one section (its rows the filter ``mode`` shows) for the
    page script, cached as the page caches it; None when the review has no such section."""
    rows = Rows(review, top_section_ids=[section_id])
    if not rows.values:
        return None
    values = [v for v in rows.values if _keep_values(v, mode, user_id)]
    fragments = SectionFragments(review, can_answer=can_answer, mode=mode)
    key = fragments.key(section_id, _key_rows_from_values(values))
    body = fragments.get_many([key]).get(key)
    if body is None:
        renderer = RowRenderer(review, can_answer=can_answer, csrf_token=None, filter_mode=mode)
        body = fragments.render(rows, values, renderer)
        fragments.set_many({key: body})
    first = rows.values[0]
    section = {
        "id": section_id,
        "title": first[22] if first[21] else first[20],
        "count": sum(1 for v in rows.values if v[1] == Verdict.UNANSWERED),
    }
    # "The rest of the section" is the whole section: offered where the fragment shows it all.
    tools = speed.section_tools(review, [section], can_answer=can_answer and mode == "all")
    return fill_csrf(body + tools.get(section_id, ""), csrf_token)
