"""The audit trail over the API: cursor pages, newest first."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.pagination import CursorPagination

from accounts.api.common import API_PERMISSIONS, errors
from accounts.permissions import is_curator
from audit.models import Event
from config.api import StrictPageSizeMixin
from reviews.api.serializers import EventSerializer
from reviews.filtersets import EventFilterSet
from reviews.models import Membership, Project, Role
from reviews.selectors import project_events_scope

CHECKLIST_VERB_PREFIX = "checklist."


class EventCursorPagination(StrictPageSizeMixin, CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def events_visible_to(user):
    """Events of the projects ``user`` is a member of (webhook events where they are a lead);
    checklist events (no project) for curators; the user's own events without a project
    (tokens); everything for superusers."""
    events = Event.objects.select_related("actor")
    if user.is_superuser:
        return events
    memberships = Membership.objects.filter(user=user)
    scope = project_events_scope(
        memberships.values("project_id"), memberships.filter(role=Role.LEAD).values("project_id")
    )
    scope |= Q(project_id__isnull=True, actor=user)
    if is_curator(user):
        scope |= Q(project_id__isnull=True, verb__startswith=CHECKLIST_VERB_PREFIX)
    return events.filter(scope)


@extend_schema(
    tags=["events"], responses={200: EventSerializer(many=True), **errors(400, 401, 404)}
)
class EventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Audit events, newest first, filterable by project, review, actor, verb and time."""

    permission_classes = API_PERMISSIONS
    serializer_class = EventSerializer
    pagination_class = EventCursorPagination
    filterset_class = EventFilterSet
    filter_backends = [*viewsets.GenericViewSet.filter_backends[:1]]
    queryset = Event.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        return events_visible_to(self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        project_ids = {event.project_id for event in page if event.project_id}
        slugs = dict(Project.objects.filter(pk__in=project_ids).values_list("pk", "slug"))
        serializer = EventSerializer(page, many=True, context={"project_slugs": slugs})
        return self.get_paginated_response(serializer.data)
