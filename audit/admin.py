from django.contrib import admin
from django.http import Http404

from audit.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The site-wide audit log, for site administrators only: it spans every project, so no
    other user (staff and curators included, whatever permissions they were given) sees a row
    of it here; members read their projects' events in the app and the API."""

    list_display = ["id", "created_at", "actor_label", "verb", "object_type", "object_id"]
    list_filter = ["verb", "object_type"]
    search_fields = ["actor_label", "verb", "object_repr", "request_id"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.none()

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such event.")
        return obj

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
