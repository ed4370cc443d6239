"""Admin for the reviews domain. Writes go through the services.

``is_staff`` only opens the admin. A project's objects exist here only for who may see the
project (the permission module's rule, as in the browser and the API): for anyone else they
answer 404, whatever Django permissions or flags (staff, curator) they carry. Which models a
staff user sees at all is Django's model permissions: a curator's group holds the checklist
models' only, so a curator sees the checklist models only; site administrators see everything.
"""

from django.contrib import admin, messages
from django.http import Http404

from config.errors import DomainError
from reviews import permissions, services
from reviews.models import Finding, Membership, Override, Project, Review, SignOff, Spec


class ProjectScopedAdmin(admin.ModelAdmin):
    """The rows of projects the user sees (``project_path`` leads from the model to its
    project); any other object is not found (404), before any permission is asked."""

    project_path = "project"

    def get_queryset(self, request):
        return permissions.in_visible_projects(
            super().get_queryset(request), request.user, self.project_path
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No such {self.opts.verbose_name}.")
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Project:
            kwargs["queryset"] = permissions.projects_visible_to(request.user).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(ProjectScopedAdmin):
    """Reviews, answers and sign-offs change only through the app's pages and API."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "can_override", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ProjectScopedAdmin):
    list_display = ["slug", "name", "required_signoffs", "important_findings_block", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]
    project_path = "pk"

    def has_add_permission(self, request):
        return permissions.can_create_project(request.user)

    def get_readonly_fields(self, request, obj=None):
        return ["slug", "created_at"] if obj else ["created_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                created = services.project_create(
                    actor=request.user, slug=obj.slug, name=obj.name, description=obj.description
                )
                obj.pk = created.pk
                return
            services.project_settings_update(
                actor=request.user,
                project=obj,
                required_signoffs=obj.required_signoffs,
                important_findings_block=obj.important_findings_block,
                name=obj.name,
                description=obj.description,
            )
        except DomainError as exc:
            messages.error(request, exc.message)


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    list_display = ["project", "user", "role", "can_override"]
    list_filter = ["role", "project"]
    search_fields = ["user__email", "project__slug"]
    autocomplete_fields = ["user"]
    fields = ["project", "user", "role", "can_override"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "user")

    def save_model(self, request, obj, form, change):
        try:
            services.membership_set(
                actor=request.user,
                project=obj.project,
                email=obj.user.email,
                role=obj.role,
                can_override=obj.can_override,
            )
        except DomainError as exc:
            messages.error(request, exc.message)

    def delete_model(self, request, obj):
        try:
            services.membership_remove(
                actor=request.user, project=obj.project, email=obj.user.email
            )
        except DomainError as exc:
            messages.error(request, exc.message)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or permissions.can_manage_members(request.user, obj.project)


@admin.register(Spec)
class SpecAdmin(ReadOnlyAdmin):
    list_display = ["title", "project", "author", "revision_label", "created_at"]
    search_fields = ["title", "project__slug", "author__email"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "author")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "spec", "state", "created_by", "due_date", "created_at"]
    list_filter = ["state"]
    search_fields = ["spec__title"]

    project_path = "spec__project"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("spec", "created_by")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["title", "review", "severity", "status", "raised_by"]
    list_filter = ["severity", "status"]

    project_path = "review__spec__project"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("review", "raised_by")


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ["review", "user", "role", "decision", "stale", "created_at"]
    list_filter = ["role", "decision", "stale"]

    project_path = "review__spec__project"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("review", "user")


@admin.register(Override)
class OverrideAdmin(ReadOnlyAdmin):
    list_display = ["review", "rule", "granted_by", "expires_at", "created_at"]

    project_path = "review__spec__project"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("review", "granted_by")
