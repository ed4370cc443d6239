"""/api/v1/: each app's api/urls.py contributes its routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("checklists.api.urls")),
    path("", include("reviews.api.urls")),
    path("", include("webhooks.api.urls")),
]
