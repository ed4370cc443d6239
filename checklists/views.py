"""The checklist library in the browser: browse published templates, read a version, compare
two versions, download one as Markdown. Drafts are visible to curators only (404 otherwise).

Curators also import a Markdown document here (upload or paste → preview → import as draft or
publish) and publish a draft from its page; every write calls ``checklists.services``, as the
admin, the API and the ``import_checklist`` command do.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.permissions import is_curator
from checklists import selectors, services
from checklists.forms import ImportConfirmForm, ImportForm, PublishForm, pack_upload, unpack_upload
from checklists.importer import parse_document
from checklists.models import ChecklistTemplate, TemplateVersion, VersionStatus
from config.errors import DomainError, Forbidden


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
    curator = is_curator(request.user)
    context = {
        "templates": selectors.published_templates(),
        "drafts": selectors.drafts().order_by("template__title") if curator else [],
        "can_import": curator,
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
    if context["is_curator"] and version.status == VersionStatus.DRAFT:
        context["can_publish"] = services.can_publish(version)
        context["publish_form"] = PublishForm(initial={"changelog": version.changelog})
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


# --- curators: import a document, publish a draft ------------------------------------------


def _require_curator(request, action: str) -> None:
    if not is_curator(request.user):
        raise PermissionDenied(f"Only checklist curators can {action}.")


def _upload_page(request, form: ImportForm, status: int = 200):
    return render(request, "checklists/import.html", {"form": form}, status=status)


def _existing(slug: str, title: str) -> list[ChecklistTemplate]:
    """The checklist the slug names and any other with the document's title, each with its
    latest version's number and status (one query)."""
    latest = TemplateVersion.objects.filter(template=OuterRef("pk")).order_by("-number")
    match = Q(slug=slug) | Q(title__iexact=title) if title else Q(slug=slug)
    return list(
        ChecklistTemplate.objects.filter(match)
        .annotate(
            latest_number=Subquery(latest.values("number")[:1]),
            latest_status=Subquery(latest.values("status")[:1]),
        )
        .order_by("slug")
    )


def _preview_page(request, *, tree, name: str, slug: str, form: ImportConfirmForm, status=200):
    context = {
        "tree": tree,
        "source_name": name,
        "slug": slug,
        "summary": selectors.parsed_summary(tree),
        "plan": selectors.import_plan(slug=slug, content_hash=tree.content_hash),
        "existing": _existing(slug, (tree.title or "").strip()),
        "form": form,
    }
    return render(request, "checklists/import_preview.html", context, status=status)


def _confirm_form(raw: bytes, name: str, slug: str, changelog: str = "") -> ImportConfirmForm:
    return ImportConfirmForm(
        initial={
            "payload": pack_upload(raw, name),
            "slug": slug,
            "previewed_slug": slug,
            "changelog": changelog,
        }
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_upload(request):
    """Step 1: a file or pasted text (and an optional slug) → the preview. Writes nothing."""
    _require_curator(request, "import checklists")
    if request.method != "POST":
        return _upload_page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            raw, name = form.document()
            tree = parse_document(raw, source_name=name)
        except DomainError as exc:
            form.add_error(form.source_field, str(exc))
        else:
            try:
                slug = form.cleaned_data["slug"] or services.default_slug(tree, name)
            except DomainError as exc:
                form.add_error("slug", str(exc))
            else:
                form = _confirm_form(raw, name, slug)
                return _preview_page(request, tree=tree, name=name, slug=slug, form=form)
    return _upload_page(request, form, status=400)


def _import_message(request, result, name: str, was_draft: bool) -> None:
    version, slug = result.version, result.template.slug
    where = f"v{version.number} of '{slug}'"
    if not result.created:
        text = f"Nothing imported: '{name}' is identical to {where}, so no new version was made."
        if was_draft and version.status == VersionStatus.PUBLISHED:
            text += f" Published {where}."
        messages.warning(request, text)
    elif version.status == VersionStatus.PUBLISHED:
        messages.success(request, f"Imported '{name}' and published {where}.")
    else:
        verb = "replaced the content of draft" if result.replaced_draft else "created draft"
        messages.success(request, f"Imported '{name}': {verb} {where}. Check it, then publish it.")


def _derived_slug(tree, name: str) -> str:
    try:
        return services.default_slug(tree, name)
    except DomainError:
        return ""


@login_required
@require_POST
def import_confirm(request):
    """Step 2: parse the signed document again and import it (as a draft, or published)."""
    _require_curator(request, "import checklists")
    form = ImportConfirmForm(request.POST)
    try:
        raw, name = unpack_upload(request.POST.get("payload", ""))
        tree = parse_document(raw, source_name=name)
    except DomainError as exc:
        return _upload_page(request, ImportForm.refused(str(exc)), status=400)
    if not form.is_valid():
        slug = form.cleaned_data.get("previewed_slug") or _derived_slug(tree, name)
        return _preview_page(request, tree=tree, name=name, slug=slug, form=form, status=400)
    slug, changelog = form.cleaned_data["slug"], form.cleaned_data["changelog"]
    if form.must_preview_again:
        form = _confirm_form(raw, name, slug, changelog)
        return _preview_page(request, tree=tree, name=name, slug=slug, form=form)
    same = selectors.import_plan(slug=slug, content_hash=tree.content_hash).same
    try:
        result = services.checklist_import(
            actor=request.user,
            data=raw,
            source_name=name,
            slug=slug,
            publish=form.cleaned_data["action"] == "publish",
            changelog=changelog,
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        form.add_error(None, str(exc))
        return _preview_page(request, tree=tree, name=name, slug=slug, form=form, status=400)
    _import_message(
        request, result, name, was_draft=bool(same and same.status == VersionStatus.DRAFT)
    )
    return redirect("checklists:version", slug=result.template.slug, number=result.version.number)


@login_required
@require_POST
def version_publish(request, slug, number):
    _require_curator(request, "publish checklist versions")
    version = get_object_or_404(
        TemplateVersion.objects.select_related("template"), template__slug=slug, number=number
    )
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            services.version_publish(
                actor=request.user, version=version, changelog=form.cleaned_data["changelog"]
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Published v{version.number} of '{slug}'.")
    else:
        messages.error(request, "Check the changelog: " + form.errors.as_text())
    return redirect("checklists:version", slug=slug, number=number)
