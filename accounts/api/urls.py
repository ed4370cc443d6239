from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api.views import MeView, TokenViewSet

router = SimpleRouter()
router.register("tokens", TokenViewSet, basename="api-token")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    *router.urls,
]
