"""The printable report and its Markdown / CSV downloads."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from reviews.gate import evaluate_gate
from reviews.report import SEVERITY_HEADINGS, render_csv, render_markdown
from reviews.selectors import findings_for_review, section_progress
from reviews.views._common import domain_errors, get_review
from reviews.views.review import _overall, build_sections
from reviews.views.rows import load_rows


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
            "gate": evaluate_gate(review, request.user),
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
        render_markdown(review, request.user),
        "text/markdown; charset=utf-8",
        f"review-{review.pk}.md",
    )


@login_required
@domain_errors
def report_csv(request, pk: int):
    review = get_review(request.user, pk)
    return _download(render_csv(review), "text/csv; charset=utf-8", f"review-{review.pk}.csv")
