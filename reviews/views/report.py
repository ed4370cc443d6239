"""The printable report and its Markdown / CSV downloads."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from reviews.models import Response, Verdict
from reviews.report import SEVERITY_HEADINGS, approval_record, render_csv, render_markdown
from reviews.selectors import findings_for_review, section_progress
from reviews.views._common import domain_errors, get_review
from reviews.views.rows import load_rows


def _keep(response: Response, mode: str, user) -> bool:
    if mode == "open":
        return response.verdict == Verdict.UNANSWERED or response.needs_recheck
    if mode == "failed":
        return response.verdict == Verdict.FAIL
    if mode == "mine":
        return response.answered_by_id == user.pk
    return True


def build_sections(responses, progress, mode, user):
    """Templates → sections → groups → responses, in checklist order (no queries): every row,
    as the report shows them."""
    templates: dict[int, dict] = {}
    for response in responses:
        item = response.item
        version = item.version
        tpl = templates.setdefault(
            version.pk, {"version": version, "sections": {}, "title": version.display_title}
        )
        top = item.section.parent or item.section
        section = tpl["sections"].setdefault(
            top.pk, {"section": top, "blocks": [], "progress": progress.get(top.pk), "shown": 0}
        )
        if not _keep(response, mode, user):
            continue
        group = item.section if item.section.parent_id else None
        if not section["blocks"] or section["blocks"][-1]["group"] != group:
            section["blocks"].append({"group": group, "responses": []})
        section["blocks"][-1]["responses"].append(response)
        section["shown"] += 1
    result = []
    for tpl in templates.values():
        tpl["sections"] = list(tpl["sections"].values())
        result.append(tpl)
    return result


def _overall(progress_by_section, responses) -> dict:
    counts = {"pass": 0, "fail": 0, "na": 0, "unanswered": 0}
    for response in responses:
        counts[response.verdict] = counts.get(response.verdict, 0) + 1
    total = sum(counts.values())
    answered = total - counts["unanswered"]
    return {
        **counts,
        "total": total,
        "answered": answered,
        "percent": round(100 * answered / total) if total else 0,
    }


@login_required
@domain_errors
def report(request, pk: int):
    review = get_review(request.user, pk)
    responses = load_rows(review)
    findings = list(findings_for_review(review))
    groups = [
        {"label": label, "findings": [f for f in findings if f.severity == severity]}
        for severity, label in SEVERITY_HEADINGS
    ]
    return render(
        request,
        "reviews/report.html",
        {
            "review": review,
            "spec": review.spec,
            "templates": build_sections(responses, section_progress(review), "all", request.user),
            "progress": _overall(None, responses),
            "record": approval_record(review),
            "finding_groups": groups,
        },
    )


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@domain_errors
def report_markdown(request, pk: int):
    review = get_review(request.user, pk)
    return _download(
        render_markdown(review),
        "text/markdown; charset=utf-8",
        f"review-{review.pk}.md",
    )


@login_required
@domain_errors
def report_csv(request, pk: int):
    review = get_review(request.user, pk)
    return _download(render_csv(review), "text/csv; charset=utf-8", f"review-{review.pk}.csv")
