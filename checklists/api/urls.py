from rest_framework.routers import SimpleRouter

from checklists.api.views import ChecklistViewSet

router = SimpleRouter()
router.register("checklists", ChecklistViewSet, basename="api-checklist")

urlpatterns = router.urls
