"""The checklist library in the browser: browse published templates, read a version, compare
two versions, download one as Markdown. Drafts are visible to curators only (404 otherwise)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_safe

from accounts.permissions import is_curator
from checklists import selectors
from checklists.models import VersionStatus


def _visible_versions(user, slug: str) -> list:
    versions = list(
        selectors.versions_visible_to(user).filter(template__slug=slug).order_by("-number")
    )
    if not versions:
        raise Http404("No such checklist.")
    return versions


def _default_version(versions: list):
    """The latest published version, else the latest one visible."""
    return next((v for v in versions if v.status == VersionStatus.PUBLISHED), versions[0])


@require_safe
@login_required
def library(request):
    context = {
        "templates": selectors.published_templates(),
        "drafts": selectors.drafts().order_by("template__title")
        if is_curator(request.user)
        else [],
    }
    return render(request, "checklists/library.html", context)


@require_safe
@login_required
def template_detail(request, slug):
    version = _default_version(_visible_versions(request.user, slug))
    return redirect("checklists:version", slug=slug, number=version.number)


@require_safe
@login_required
def version_detail(request, slug, number):
    versions = _visible_versions(request.user, slug)
    version = next((v for v in versions if v.number == number), None)
    if version is None:
        raise Http404("No such version.")
    tree = selectors.version_tree(version)
    previous = next((v for v in versions if v.number < number), None)
    context = {
        "template": version.template,
        "version": version,
        "versions": versions,
        "tree": tree,
        "summary": tree.summary(),
        "previous": previous,
        "is_curator": is_curator(request.user),
    }
    return render(request, "checklists/version.html", context)


@require_safe
@login_required
def version_export(request, slug, number):
    version = get_object_or_404(
        selectors.versions_visible_to(request.user), template__slug=slug, number=number
    )
    response = HttpResponse(
        selectors.version_markdown(version), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{selectors.export_filename(version)}"'
    return response


def _number(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_safe
@login_required
def compare(request, slug):
    versions = _visible_versions(request.user, slug)
    by_number = {v.number: v for v in versions}
    old_number, new_number = _number(request.GET.get("from")), _number(request.GET.get("to"))
    if new_number is None:
        new_number = _default_version(versions).number
    if old_number is None:
        old_number = next((v.number for v in versions if v.number < new_number), new_number)
    old, new = by_number.get(old_number), by_number.get(new_number)
    if old is None or new is None:
        raise Http404("No such version.")
    context = {
        "template": new.template,
        "versions": versions,
        "old": old,
        "new": new,
        "comparison": selectors.version_compare(old, new),
    }
    return render(request, "checklists/compare.html", context)
