"""Speed tools of the review page: search within the review (``?q=``) and "mark the rest of
this section N/A" with one note (through ``services.section_mark_na``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.errors import DomainError
from reviews import services
from reviews.forms import SectionNaForm
from reviews.models import Response
from reviews.views import reads
from reviews.views._common import domain_errors, flash_refusal

SEARCH_MAX = 200
# Sections with matches rendered with the page, while their matching rows fit this many (the
# others stay collapsed and load when opened, as without a search).
SEARCH_BUDGET = 150


def search_query(request) -> str:
    """``?q=``: what to look for in the items' text and guidance (one line, at most 200)."""
    return " ".join((request.GET.get("q") or "").split())[:SEARCH_MAX]


def search_matches(review, q: str) -> set[int]:
    """The ids of the review's items whose text or guidance contains ``q`` (one query)."""
    found = Q(item__text__icontains=q) | Q(item__guidance__icontains=q)
    return set(Response.objects.filter(found, review=review).values_list("item_id", flat=True))


def search_sections(outline, matches: set[int], expand, forced, *, kept) -> set[int]:
    """The sections rendered with a search: those with matching rows (that the filter keeps),
    in order while the matches fit ``SEARCH_BUDGET`` (the first always), and those asked for."""
    chosen = set(expand if expand != "all" else ()) | set(forced)
    used = 0
    for tpl in outline.templates:
        for sec in tpl["sections"]:
            hits = sum(1 for row in sec["rows"] if row[0] in matches and kept(row))
            if hits and (not used or used + hits <= SEARCH_BUDGET or expand == "all"):
                chosen.add(sec["id"])
                used += hits
    return chosen


TOOLS_END = "<!--section-na-end-->"  # after each form in reviews/_section_na.html


def section_tools(review, sections: list[dict], *, can_answer: bool) -> dict[int, str]:
    """Section id → its "mark the unanswered items N/A" form (``rows.CSRF_SLOT`` for the
    token), for someone who may answer, for each of ``sections`` (``id``, ``title`` and
    ``count``: its unanswered items) that has unanswered items. The page renders them only for
    the sections it shows (~70 µs each, in one template render); a collapsed section gets its
    form with its rows (``sections.section_fragment``)."""
    sections = [s for s in sections if s["count"]]
    if not can_answer or not sections:
        return {}
    html = render_to_string(
        "reviews/_section_na.html",
        {
            "sections": sections,
            "prefix": reverse("reviews:section_rows", args=[review.pk, 0])[:-2],
        },
    )
    forms = html.split(TOOLS_END)
    return {s["id"]: form.strip() for s, form in zip(sections, forms, strict=False)}


@login_required
@domain_errors
@require_POST
def section_mark_na(request, pk: int, section_id: int):
    """The section form's POST: every unanswered item of the section N/A with one note; back
    to the section with what was done or why not."""
    review = reads.get_review(request.user, pk)
    form = SectionNaForm(request.POST)
    anchor = f"#section-{section_id}"
    url = reverse("reviews:review", args=[review.pk])
    # A refusal lands at the top of the page, where its message is (the section stays open).
    if not form.is_valid():
        messages.error(request, f"Nothing marked N/A: {form.error_text()}")
        return redirect(f"{url}?section={section_id}")
    try:
        saved = services.section_mark_na(
            actor=request.user,
            review=review,
            section_id=section_id,
            note=form.cleaned_data["note"],
            expected=form.cleaned_data["expected"],
        )
    except DomainError as exc:
        flash_refusal(request, exc)
        return redirect(f"{url}?section={section_id}")
    plural = "" if len(saved) == 1 else "s"
    messages.success(request, f"Marked {len(saved)} item{plural} N/A.")
    return redirect(f"{url}?section={section_id}{anchor}")
