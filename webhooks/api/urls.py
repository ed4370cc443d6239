from rest_framework.routers import SimpleRouter

from webhooks.api.views import WebhookViewSet

router = SimpleRouter()
router.register("webhooks", WebhookViewSet, basename="api-webhook")

urlpatterns = router.urls
