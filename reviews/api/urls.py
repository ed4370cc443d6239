from django.urls import path
from rest_framework.routers import SimpleRouter

from reviews.api.views import EventViewSet, ProjectViewSet, ReviewViewSet, SpecViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="api-project")
router.register("specs", SpecViewSet, basename="api-spec")
router.register("reviews", ReviewViewSet, basename="api-review")
router.register("events", EventViewSet, basename="api-event")

urlpatterns = [
    path(
        "reviews/<int:pk>/report.csv",
        ReviewViewSet.as_view({"get": "report"}, report_as_csv=True),
        name="api-review-report-csv",
    ),
    *router.urls,
]
