"""Specs and their revisions."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.common import API_PERMISSIONS, errors, list_and_detail_schema
from config.errors import InvalidInput
from reviews.api.serializers import (
    RevisionCreateSerializer,
    RevisionSerializer,
    SpecCreateSerializer,
    SpecSerializer,
)
from reviews.filtersets import SpecFilterSet
from reviews.models import Project
from reviews.permissions import projects_visible_to
from reviews.selectors import specs_for_list
from reviews.services import spec_create, spec_post_revision


@extend_schema(tags=["specs"])
@list_and_detail_schema(SpecSerializer)
class SpecViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = API_PERMISSIONS
    serializer_class = SpecSerializer
    filterset_class = SpecFilterSet
    lookup_value_regex = r"\d{1,18}"
    search_fields = ["title", "description"]
    ordering_fields = ["created_at", "title", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return specs_for_list(self.request.user)

    @extend_schema(
        request=SpecCreateSerializer, responses={201: SpecSerializer, **errors(400, 401, 403)}
    )
    def create(self, request):
        serializer = SpecCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = projects_visible_to(request.user).filter(slug=data["project"]).first()
        if project is None:
            raise InvalidInput(
                f"No project {data['project']!r} that you are a member of.",
                details={"project": ["Unknown project."]},
            )
        spec = spec_create(
            actor=request.user,
            project=Project.objects.get(pk=project.pk),
            title=data["title"],
            link=data.get("link", ""),
            description=data.get("description", ""),
            revision_label=data.get("revision") or "r1",
        )
        return Response(SpecSerializer(spec).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], responses={200: RevisionSerializer(many=True), **errors(400, 401, 404)}
    )
    @extend_schema(
        methods=["POST"],
        request=RevisionCreateSerializer,
        responses={
            201: RevisionSerializer,
            200: RevisionSerializer,
            **errors(400, 401, 403, 404),
        },
        description="Post a new revision (201); posting the current one again changes nothing (200).",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def revisions(self, request, pk=None):
        spec = get_object_or_404(self.get_queryset(), pk=pk)
        if request.method == "GET":
            revisions = spec.revisions.select_related("posted_by").order_by("number")
            page = self.paginate_queryset(revisions)
            return self.get_paginated_response(RevisionSerializer(page, many=True).data)
        serializer = RevisionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revision, created = spec_post_revision(
            actor=request.user, spec=spec, **serializer.validated_data
        )
        return Response(
            RevisionSerializer(revision).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
