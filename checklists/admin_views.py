"""The admin's own pages for checklists: Markdown import (upload → preview → confirm), and the
version transitions (publish with a changelog, retire, new draft), export and compare.

Every write calls ``checklists.services``; refusals come back as the service's message.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from accounts.permissions import is_curator
from checklists import selectors, services
from checklists.forms import PublishForm, max_bytes, pack_upload, unpack_upload
from checklists.importer import parse_document
from checklists.models import Section, TemplateVersion
from config.errors import DomainError

# A version with more items than this is shown (and edited) one section at a time.
ITEM_INLINE_LIMIT = 60


def requested_section(request) -> int | None:
    """``?section=<id>``: edit (or read) the items of one section and its groups."""
    value = request.GET.get("section", "")
    return int(value) if value.isdigit() else None


def shows_all_items(version: TemplateVersion) -> bool:
    count = getattr(version, "item_count", None)
    return (version.items.count() if count is None else count) <= ITEM_INLINE_LIMIT


class ImportUploadForm(forms.Form):
    # An empty file reaches the importer, whose refusal names the file (DESIGN.md).
    file = forms.FileField(
        label="Markdown file",
        help_text="A checklist document (.md, .txt).",
        allow_empty_file=True,
    )
    slug = forms.SlugField(
        required=False,
        max_length=100,
        help_text="Leave empty to derive it from the title (or the file name). An existing slug "
        "adds a new version to that checklist.",
    )
    publish = forms.BooleanField(required=False, help_text="Publish the new version at once.")


class ImportConfirmForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput)
    slug = forms.SlugField(widget=forms.HiddenInput, max_length=100)
    publish = forms.BooleanField(required=False, widget=forms.HiddenInput)
    changelog = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class _AdminPages:
    def _page(self, request, template: str, title: str, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            **context,
        }
        return render(request, f"checklists/admin/{template}", context)

    def _require_curator(self, request) -> None:
        if not is_curator(request.user):
            raise PermissionDenied


class TemplateAdminViews(_AdminPages):
    """Adds "Import Markdown" to the checklist template admin."""

    def get_urls(self):
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="checklists_checklisttemplate_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request):
        self._require_curator(request)
        if request.method == "POST" and request.POST.get("step") == "confirm":
            return self._import_confirm(request)
        form = ImportUploadForm()
        if request.method == "POST":
            form = ImportUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                raw = upload.read(max_bytes() + 1)
                try:
                    tree = parse_document(raw, source_name=upload.name)
                    slug = form.cleaned_data["slug"] or services.default_slug(tree, upload.name)
                except DomainError as exc:
                    form.add_error("file", str(exc))
                else:
                    return self._import_preview(request, tree, raw, upload.name, slug, form)
        return self._page(
            request, "import_form.html", "Import a checklist from Markdown", form=form
        )

    def _import_preview(self, request, tree, raw, name, slug, upload_form):
        publish = upload_form.cleaned_data["publish"]
        confirm = ImportConfirmForm(
            initial={"payload": pack_upload(raw, name), "slug": slug, "publish": publish}
        )
        return self._page(
            request,
            "import_preview.html",
            f"Preview: {tree.title or name}",
            tree=tree,
            source_name=name,
            slug=slug,
            publish=publish,
            summary=selectors.parsed_summary(tree),
            plan=selectors.import_plan(slug=slug, content_hash=tree.content_hash),
            form=confirm,
        )

    def _import_confirm(self, request):
        form = ImportConfirmForm(request.POST)
        upload_form = ImportUploadForm()
        if not form.is_valid():
            upload_form.errors["__all__"] = upload_form.error_class(
                ["The confirmation was incomplete; upload the file again."]
            )
            return self._page(request, "import_form.html", "Import a checklist", form=upload_form)
        try:
            raw, name = unpack_upload(form.cleaned_data["payload"])
            result = services.checklist_import(
                actor=request.user,
                data=raw,
                source_name=name,
                slug=form.cleaned_data["slug"],
                publish=form.cleaned_data["publish"],
                changelog=form.cleaned_data["changelog"],
            )
        except DomainError as exc:
            upload_form.errors["__all__"] = upload_form.error_class([str(exc)])
            return self._page(request, "import_form.html", "Import a checklist", form=upload_form)
        version = result.version
        if not result.created:
            text = f"Nothing imported: the document is identical to {version}."
            level = messages.WARNING
        else:
            verb = "replaced the content of" if result.replaced_draft else "created"
            text = f"Imported '{name}': {verb} {version}."
            level = messages.SUCCESS
        self.message_user(request, text, level)
        for warning in result.warnings:
            self.message_user(request, warning, messages.WARNING)
        return HttpResponseRedirect(
            reverse("admin:checklists_templateversion_change", args=[version.pk])
        )


class VersionAdminViews(_AdminPages):
    """Publish / retire / new draft / export / compare for a template version."""

    def get_urls(self):
        def route(suffix, view):
            return path(
                f"<path:object_id>/{suffix}/",
                self.admin_site.admin_view(view),
                name=f"checklists_templateversion_{suffix.replace('-', '_')}",
            )

        extra = [
            route("publish", self.publish_view),
            route("retire", self.retire_view),
            route("new-draft", self.new_draft_view),
            route("export", self.export_view),
            route("compare", self.compare_view),
        ]
        return extra + super().get_urls()

    def _version(self, request, object_id) -> TemplateVersion:
        self._require_curator(request)
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404("No such version.")
        return version

    def _change_url(self, version) -> str:
        return reverse("admin:checklists_templateversion_change", args=[version.pk])

    def version_context(self, request, version) -> dict:
        can_publish = services.can_publish(version)
        can_retire = services.can_retire(version)
        can_new_draft = services.can_new_draft(version.template)
        context = {
            "can_publish": can_publish,
            "can_retire": can_retire,
            "can_new_draft": can_new_draft,
            "library_url": reverse(
                "checklists:version", args=[version.template.slug, version.number]
            ),
        }
        section = requested_section(request)
        if section is not None or not shows_all_items(version):
            context["section_nav"] = Section.objects.filter(version=version).order_by(
                "position", "id"
            )
            context["current_section"] = section
        return context

    def _transition(self, request, object_id, *, guard, run, title, done, form_class=None):
        version = self._version(request, object_id)
        ok, why = guard(version)
        form = form_class(request.POST or None) if form_class else None
        if form is not None and request.method == "GET" and version.changelog:
            form = form_class(initial={"changelog": version.changelog})
        if request.method == "POST" and (form is None or form.is_valid()):
            extra = form.cleaned_data if form is not None else {}
            try:
                result = run(version, **extra)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(self._change_url(version))
            self.message_user(request, done(result), messages.SUCCESS)
            return HttpResponseRedirect(self._change_url(result))
        return self._page(
            request,
            "confirm.html",
            f"{title}: {version}",
            version=version,
            original=version,
            allowed=ok,
            reason=why,
            form=form,
            action=title,
        )

    def publish_view(self, request, object_id):
        return self._transition(
            request,
            object_id,
            guard=services.can_publish,
            run=lambda v, changelog="": services.version_publish(
                actor=request.user, version=v, changelog=changelog
            ),
            title="Publish",
            done=lambda v: f"Published {v.template.slug} v{v.number}.",
            form_class=PublishForm,
        )

    def retire_view(self, request, object_id):
        return self._transition(
            request,
            object_id,
            guard=services.can_retire,
            run=lambda v: services.version_retire(actor=request.user, version=v),
            title="Retire",
            done=lambda v: f"Retired {v.template.slug} v{v.number}.",
        )

    def new_draft_view(self, request, object_id):
        return self._transition(
            request,
            object_id,
            guard=lambda v: services.can_new_draft(v.template),
            run=lambda v: services.version_new_draft(
                actor=request.user, template=v.template, from_version=v
            ),
            title="New draft from this version",
            done=lambda v: f"Created draft v{v.number} of {v.template.slug}; edit it below.",
        )

    def export_view(self, request, object_id):
        version = self._version(request, object_id)
        response = HttpResponse(
            selectors.version_markdown(version), content_type="text/markdown; charset=utf-8"
        )
        filename = selectors.export_filename(version)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def compare_view(self, request, object_id):
        version = self._version(request, object_id)
        others = list(
            TemplateVersion.objects.filter(template=version.template)
            .exclude(pk=version.pk)
            .order_by("-number")
        )
        other_id = request.GET.get("with", "")
        other = next((v for v in others if str(v.pk) == other_id), None)
        comparison = None
        if other is not None:
            old, new = sorted([version, other], key=lambda v: v.number)
            comparison = selectors.version_compare(old, new)
        return self._page(
            request,
            "compare.html",
            f"Compare {version}",
            version=version,
            original=version,
            others=others,
            other=other,
            comparison=comparison,
        )

    # --- changelist actions: each works on one selected version (compare: two) ------------

    def _one(self, request, queryset):
        versions = list(queryset[:3])
        if len(versions) != 1:
            self.message_user(request, "Select exactly one version.", messages.WARNING)
            return None
        return versions[0]

    def _redirect_to(self, request, queryset, name):
        version = self._one(request, queryset)
        if version is None:
            return None
        return HttpResponseRedirect(
            reverse(f"admin:checklists_templateversion_{name}", args=[version.pk])
        )

    def new_draft_action(self, request, queryset):
        return self._redirect_to(request, queryset, "new_draft")

    new_draft_action.short_description = "New draft from the selected version…"

    def publish_action(self, request, queryset):
        return self._redirect_to(request, queryset, "publish")

    publish_action.short_description = "Publish the selected draft…"

    def retire_action(self, request, queryset):
        return self._redirect_to(request, queryset, "retire")

    retire_action.short_description = "Retire the selected version…"

    def export_action(self, request, queryset):
        version = self._one(request, queryset)
        return None if version is None else self.export_view(request, str(version.pk))

    export_action.short_description = "Export the selected version as Markdown"

    def compare_action(self, request, queryset):
        versions = sorted(queryset[:3], key=lambda v: v.number)
        if len(versions) != 2 or versions[0].template_id != versions[1].template_id:
            self.message_user(
                request, "Select two versions of the same checklist.", messages.WARNING
            )
            return None
        url = reverse("admin:checklists_templateversion_compare", args=[versions[1].pk])
        return HttpResponseRedirect(f"{url}?with={versions[0].pk}")

    compare_action.short_description = "Compare the two selected versions"
