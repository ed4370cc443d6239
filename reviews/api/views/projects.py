"""Projects, their members and settings."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.common import API_PERMISSIONS, errors, list_and_detail_schema
from config.errors import NotFound
from reviews.api.serializers import (
    MemberSerializer,
    MemberWriteSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectSettingsSerializer,
)
from reviews.filtersets import ProjectFilterSet
from reviews.models import Membership
from reviews.permissions import projects_visible_to
from reviews.services import (
    membership_remove,
    membership_set,
    project_create,
    project_settings_update,
)


@extend_schema(tags=["projects"])
@list_and_detail_schema(ProjectSerializer)
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = API_PERMISSIONS
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilterSet
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    search_fields = ["slug", "name"]
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name", "slug"]

    def get_queryset(self):
        return projects_visible_to(self.request.user).distinct()

    @extend_schema(
        request=ProjectCreateSerializer, responses={201: ProjectSerializer, **errors(400, 401, 403)}
    )
    def create(self, request):
        serializer = ProjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_create(actor=request.user, **serializer.validated_data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ProjectSettingsSerializer,
        responses={200: ProjectSerializer, **errors(400, 401, 403, 404)},
        description="Leads change the gate settings (required sign-offs, important findings).",
    )
    def partial_update(self, request, slug=None):
        project = self.get_object()
        serializer = ProjectSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = project_settings_update(
            actor=request.user, project=project, **serializer.validated_data
        )
        return Response(ProjectSerializer(project).data)

    @extend_schema(
        methods=["GET"], responses={200: MemberSerializer(many=True), **errors(400, 401, 404)}
    )
    @extend_schema(
        methods=["POST"],
        request=MemberWriteSerializer,
        responses={
            201: MemberSerializer,
            200: MemberSerializer,
            **errors(400, 401, 403, 404, 409),
        },
        description="Add a member (201) or change a member's role (200).",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def members(self, request, slug=None):
        project = self.get_object()
        if request.method == "GET":
            members = (
                Membership.objects.filter(project=project)
                .select_related("user")
                .order_by("user__email")
            )
            page = self.paginate_queryset(members)
            return self.get_paginated_response(MemberSerializer(page, many=True).data)
        serializer = MemberWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        membership, created = membership_set(
            actor=request.user,
            project=project,
            email=data["user"],
            role=data["role"],
            can_override=data["can_override"],
        )
        return Response(
            MemberSerializer(membership).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[OpenApiParameter("email", str, OpenApiParameter.PATH)],
        request=None,
        responses={204: None, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<email>[^/\x00]+)")
    def remove_member(self, request, slug=None, email=None):
        project = self.get_object()
        if not get_user_model().objects.filter(email__iexact=email).exists():
            raise NotFound(f"{email} is not a member of {project.slug}.")
        membership_remove(actor=request.user, project=project, email=email)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_object(self):
        # The visible projects only, for every action: not a member → 404 (a site
        # administrator sees every project; ``is_staff`` and curators see none they are not in).
        return get_object_or_404(self.get_queryset(), slug=self.kwargs["slug"])
