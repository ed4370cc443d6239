from django.contrib import admin

from reviews.admin import ProjectScopedAdmin
from webhooks.models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(ProjectScopedAdmin):  # a project's: 404 for whoever is not in it
    list_display = ["url", "project", "active", "failure_count", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "project__slug"]
    readonly_fields = ["failure_count", "created_by", "created_at", "updated_at"]
    exclude = ["secret"]

    def has_add_permission(self, request):
        return False  # created through the API by project leads (webhooks.services)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ProjectScopedAdmin):
    project_path = "webhook__project"
    list_display = ["event_type", "webhook", "attempt", "status", "status_code", "created_at"]
    list_filter = ["status", "event_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
