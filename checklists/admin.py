"""Curating checklists in the Django admin.

Only curators (group ``curator``) and superusers see or change anything here; curators also need
``is_staff`` to enter the admin. Every write goes through ``checklists.services``: published and
retired versions are read-only, drafts are edited section by section (a large draft's items are
edited one section at a time, to keep each form under Django's field limit).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Max, Q
from django.forms.utils import flatatt
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.permissions import is_curator
from checklists import selectors, services
from checklists.admin_views import (
    TemplateAdminViews,
    VersionAdminViews,
    requested_section,
    shows_all_items,
)
from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion
from config.errors import DomainError


class CuratorOnly:
    """Curators may view and change the checklist library; nobody else (staff included)."""

    def has_module_permission(self, request):
        return is_curator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_curator(request.user)

    def has_add_permission(self, request, *args):
        return is_curator(request.user)

    def has_change_permission(self, request, obj=None):
        return is_curator(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class DomainErrorsAsMessages:
    """A service refusal (raised inside the admin's transaction) becomes an error message."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


# --- templates -----------------------------------------------------------------------------


class VersionInline(CuratorOnly, admin.TabularInline):
    model = TemplateVersion
    fields = ("version_link", "status", "published_at", "changelog")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-number",)
    verbose_name_plural = "Versions"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Version")
    def version_link(self, obj):
        url = reverse("admin:checklists_templateversion_change", args=[obj.pk])
        return format_html('<a href="{}">v{}</a>', url, obj.number)


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(
    TemplateAdminViews, DomainErrorsAsMessages, CuratorOnly, admin.ModelAdmin
):
    list_display = ("title", "slug", "published_number", "draft_number", "version_count")
    search_fields = ("title", "slug", "description")
    fields = ("slug", "title", "description")
    inlines = (VersionInline,)
    change_list_template = "checklists/admin/template_change_list.html"
    change_form_template = "checklists/admin/template_change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                version_count=Count("versions"),
                published_number=Max("versions__number", filter=Q(versions__status="published")),
                draft_number=Max("versions__number", filter=Q(versions__status="draft")),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    @admin.display(description="Latest published", ordering="published_number")
    def published_number(self, obj):
        return f"v{obj.published_number}" if obj.published_number else "—"

    @admin.display(description="Draft", ordering="draft_number")
    def draft_number(self, obj):
        return f"v{obj.draft_number}" if obj.draft_number else "—"

    @admin.display(description="Versions", ordering="version_count")
    def version_count(self, obj):
        return obj.version_count

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.template_update(
                actor=request.user,
                template=obj,
                title=data["title"],
                description=data["description"],
            )
            return
        created = services.template_create(
            actor=request.user,
            slug=data["slug"],
            title=data["title"],
            description=data["description"],
        )
        obj.pk, obj.created_at = created.pk, created.created_at
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # the versions inline is read-only: this saves nothing


# --- versions: sections and items ----------------------------------------------------------


def _draft(request) -> TemplateVersion | None:
    version = getattr(request, "_checklists_version", None)
    return version if version is not None and version.is_editable else None


class FastSelect(forms.Select):
    """A select rendered without a template per option: a draft's inline has a few thousand
    options in all, which Django's template-rendered options turn into seconds."""

    def render(self, name, value, attrs=None, renderer=None):
        current = "" if value is None else str(value)
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) == current else "", label)
                for key, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


class DraftContentInline(admin.TabularInline):
    """Editable while the parent version is a draft; read-only otherwise."""

    def get_formset(self, request, obj=None, **kwargs):
        request._checklists_version = obj
        return super().get_formset(request, obj, **kwargs)

    def has_view_permission(self, request, obj=None):
        return is_curator(request.user)

    def has_add_permission(self, request, obj=None):
        return is_curator(request.user) and obj is not None and obj.is_editable

    def has_change_permission(self, request, obj=None):
        return is_curator(request.user) and obj is not None and obj.is_editable

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is not None and obj.is_editable else 0


def _fixed_choices(field, queryset, label) -> None:
    """Evaluate the choices once per form class instead of once per inline row."""
    field.widget = FastSelect()
    field.queryset = queryset
    field.choices = [("", "---------")] + [(row.pk, label(row)) for row in queryset]


def _section_label(section: Section) -> str:
    if section.parent_id is not None:
        return f"{section.parent.title} › {section.title}"
    return section.title


class SectionInline(DraftContentInline):
    model = Section
    fk_name = "version"
    fields = ("position", "title", "parent", "item_count")
    readonly_fields = ("item_count",)
    ordering = ("position", "id")
    verbose_name = "section or group"
    verbose_name_plural = "Sections and groups (a group has a parent section)"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("parent").annotate(n_items=Count("items"))
        )

    @admin.display(description="Items")
    def item_count(self, obj):
        if obj.pk is None:
            return ""
        change = reverse("admin:checklists_templateversion_change", args=[obj.version_id])
        return format_html('<a href="{}?section={}#items-tab">{}</a>', change, obj.pk, obj.n_items)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        version = _draft(request)
        if db_field.name == "parent" and version is not None:
            tops = Section.objects.filter(version=version, parent=None).order_by("position", "id")
            _fixed_choices(field, tops, lambda row: row.title)
            field.required = False
        return field


class ItemForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = (
            "position",
            "section",
            "text",
            "severity",
            "is_gate",
            "optional",
            "guidance",
            "rationale",
        )
        widgets = {
            "text": forms.Textarea(attrs={"rows": 2, "cols": 48}),
            "guidance": forms.Textarea(attrs={"rows": 2, "cols": 32}),
            "rationale": forms.Textarea(attrs={"rows": 2, "cols": 32}),
        }


class ItemInline(DraftContentInline):
    model = Item
    form = ItemForm
    fk_name = "version"
    fields = (
        "position",
        "section",
        "text",
        "severity",
        "is_gate",
        "optional",
        "guidance",
        "rationale",
        "key",
    )
    readonly_fields = ("key",)
    ordering = ("position", "id")

    def get_queryset(self, request):
        items = super().get_queryset(request).select_related("section__parent")
        section = requested_section(request)
        if section is not None:
            return items.filter(Q(section_id=section) | Q(section__parent_id=section))
        version = getattr(request, "_checklists_version", None)
        if version is not None and not shows_all_items(version):
            return items.none()
        return items

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        section = requested_section(request)
        if section is not None and "section" in formset.form.base_fields:
            formset.form.base_fields["section"].initial = section
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        version = _draft(request)
        if db_field.name == "section" and version is not None:
            sections = (
                Section.objects.filter(version=version)
                .select_related("parent")
                .order_by("position", "id")
            )
            _fixed_choices(field, sections, _section_label)
        return field


@admin.register(TemplateVersion)
class TemplateVersionAdmin(VersionAdminViews, DomainErrorsAsMessages, admin.ModelAdmin):
    list_display = ("template", "number", "status", "item_count", "gate_count", "published_at")
    list_display_links = ("template", "number")
    list_filter = ("status", "template")
    search_fields = ("template__slug", "template__title", "title")
    ordering = ("template__title", "-number")
    fields = (
        "template",
        "number",
        "status",
        "title",
        "description",
        "changelog",
        "source_name",
        "content_hash",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
    )
    readonly_fields = (
        "template",
        "number",
        "status",
        "source_name",
        "content_hash",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
    )
    inlines = (SectionInline, ItemInline)
    change_form_template = "checklists/admin/version_change_form.html"
    actions = (
        "new_draft_action",
        "publish_action",
        "retire_action",
        "export_action",
        "compare_action",
    )

    def get_queryset(self, request):
        return selectors.version_counts().select_related("created_by", "published_by")

    def has_module_permission(self, request):
        return is_curator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_curator(request.user)

    def has_add_permission(self, request):
        return False  # drafts come from an import, "new draft" or a new template

    def has_change_permission(self, request, obj=None):
        return is_curator(request.user) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request, obj=None):
        return is_curator(request.user) and obj is not None and obj.is_editable

    @admin.display(description="Items", ordering="item_count")
    def item_count(self, obj):
        return obj.item_count

    @admin.display(description="Gate items", ordering="gate_count")
    def gate_count(self, obj):
        return obj.gate_count

    def get_inlines(self, request, obj):
        # One section's items at a time leaves the sections out (Django's form field limit).
        if obj is not None and requested_section(request) is not None:
            return (ItemInline,)
        return self.inlines

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.version_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.version_update(
            actor=request.user,
            version=obj,
            title=data.get("title", obj.title),
            description=data.get("description", obj.description),
            changelog=data.get("changelog", obj.changelog),
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is Section:
            save, delete = services.section_save, services.section_delete
        else:
            save, delete = services.item_save, services.item_delete
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            delete(actor=request.user, **{formset.model._meta.model_name: obj})
        for obj in instances:
            save(actor=request.user, **{formset.model._meta.model_name: obj})

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        section = requested_section(request)
        if section is not None and "_continue" in request.POST:
            return HttpResponseRedirect(f"{request.path}?section={section}#items-tab")
        return response

    def delete_model(self, request, obj):
        services.version_discard(actor=request.user, version=obj)

    def get_deleted_objects(self, objs, request):
        # Discarding a draft removes its sections and items too; only drafts get here.
        return [str(obj) for obj in objs], {}, set(), []
