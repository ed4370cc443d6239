"""Webhook subscriptions over the API (project leads)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.common import API_PERMISSIONS, errors, list_and_detail_schema
from config.errors import InvalidInput
from reviews.models import Membership, Project, Role
from reviews.permissions import can_change_project_settings, projects_visible_to, require
from webhooks.api.serializers import (
    DeliverySerializer,
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
)
from webhooks.models import Webhook
from webhooks.services import delivery_redeliver, webhook_create, webhook_delete, webhook_update

DELIVERY_ID = OpenApiParameter("delivery_id", int, OpenApiParameter.PATH)


@extend_schema(tags=["webhooks"])
@list_and_detail_schema(WebhookSerializer, detail=False)
class WebhookViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A project's webhooks. Leads see and manage them; other members get 403."""

    permission_classes = API_PERMISSIONS
    serializer_class = WebhookSerializer
    lookup_value_regex = r"\d{1,18}"
    filter_backends: list = []

    def get_queryset(self):
        user = self.request.user
        webhooks = Webhook.objects.select_related("project", "created_by").order_by("id")
        if user.is_superuser:
            return webhooks
        led = Membership.objects.filter(user=user, role=Role.LEAD).values("project_id")
        return webhooks.filter(project_id__in=led)

    def get_object(self) -> Webhook:
        """404 out of the user's projects, 403 for a member who is not a lead."""
        webhook = get_object_or_404(
            Webhook.objects.select_related("project", "created_by").filter(
                project__in=projects_visible_to(self.request.user)
            ),
            pk=self.kwargs["pk"],
        )
        require(
            can_change_project_settings(self.request.user, webhook.project),
            self.request.user,
            webhook.project_id,
            "Only the project's leads manage its webhooks.",
            "webhook",
        )
        return webhook

    @extend_schema(responses={200: WebhookSerializer, **errors(401, 403, 404)})
    def retrieve(self, request, pk=None):
        return Response(WebhookSerializer(self.get_object()).data)

    @extend_schema(
        request=WebhookCreateSerializer,
        responses={201: WebhookCreatedSerializer, **errors(400, 401, 403, 404)},
    )
    def create(self, request):
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = projects_visible_to(request.user).filter(slug=data["project"]).first()
        if project is None:
            raise InvalidInput(
                f"No project {data['project']!r} that you are a member of.",
                details={"project": ["Unknown project."]},
            )
        webhook = webhook_create(
            actor=request.user,
            project=Project.objects.get(pk=project.pk),
            url=data["url"],
            events=data.get("events"),
            secret=data.get("secret", ""),
        )
        body = WebhookSerializer(webhook).data
        body["secret"] = webhook.secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=WebhookUpdateSerializer,
        responses={200: WebhookSerializer, **errors(400, 401, 403, 404)},
    )
    def partial_update(self, request, pk=None):
        webhook = self.get_object()
        serializer = WebhookUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = webhook_update(actor=request.user, webhook=webhook, **serializer.validated_data)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(request=None, responses={204: None, **errors(401, 403, 404)})
    def destroy(self, request, pk=None):
        webhook_delete(actor=request.user, webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: DeliverySerializer(many=True), **errors(400, 401, 403, 404)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        webhook = self.get_object()
        page = self.paginate_queryset(webhook.deliveries.order_by("-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        parameters=[DELIVERY_ID],
        request=None,
        responses={201: DeliverySerializer, **errors(401, 403, 404)},
        description="Send the delivery's event again (a new delivery).",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d{1,18})/redeliver",
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        webhook = self.get_object()
        delivery = get_object_or_404(
            webhook.deliveries.select_related("webhook__project"), pk=delivery_id
        )
        again = delivery_redeliver(actor=request.user, delivery=delivery)
        again.refresh_from_db()
        return Response(DeliverySerializer(again).data, status=status.HTTP_201_CREATED)
