"""Checklist library over the API: browse, import Markdown, publish, export."""

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.api.common import (
    API_PERMISSIONS,
    FirstRendererNegotiation,
    errors,
    list_and_detail_schema,
)
from accounts.permissions import is_curator
from checklists.api.serializers import (
    ImportRequestSerializer,
    ImportResultSerializer,
    PublishSerializer,
    TemplateSerializer,
    VersionDetailSerializer,
    VersionRefSerializer,
)
from checklists.models import TemplateVersion
from checklists.selectors import templates_visible_to, version_tree, versions_visible_to
from config.api import ImportThrottle, JSONParser, UserOrTokenRateThrottle
from config.errors import Forbidden, PayloadTooLarge

MAX_DOCUMENT_BYTES = getattr(settings, "SPECGATE_IMPORT_MAX_BYTES", 2 * 1024 * 1024)


class MarkdownParser(BaseParser):
    """A raw Markdown body (``Content-Type: text/markdown`` or ``text/plain``)."""

    media_type = "text/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"content": stream.read() if stream is not None else b""}


@extend_schema(tags=["checklists"])
@list_and_detail_schema(TemplateSerializer)
class ChecklistViewSet(viewsets.ReadOnlyModelViewSet):
    """Published checklists (curators also see drafts), addressed by slug."""

    permission_classes = API_PERMISSIONS
    serializer_class = TemplateSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends: list = []

    def get_queryset(self):
        versions = versions_visible_to(self.request.user).order_by("number")
        return (
            templates_visible_to(self.request.user)
            .prefetch_related(Prefetch("versions", versions, to_attr="visible_versions"))
            .order_by("title", "slug")
        )

    def _version(self, slug, number) -> TemplateVersion:
        return get_object_or_404(
            versions_visible_to(self.request.user), template__slug=slug, number=number
        )

    @extend_schema(responses={200: VersionDetailSerializer, **errors(401, 404)})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d{1,18})")
    def version(self, request, slug=None, number=None):
        tree = version_tree(self._version(slug, int(number)))
        return Response(VersionDetailSerializer(tree).data)

    @extend_schema(
        request=PublishSerializer,
        responses={200: VersionRefSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>\d{1,18})/publish")
    def publish(self, request, slug=None, number=None):
        from checklists.services import version_publish

        version = self._version(slug, int(number))
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = version_publish(
            actor=request.user,
            version=version,
            changelog=serializer.validated_data.get("changelog", ""),
        )
        return Response(VersionRefSerializer(version).data)

    @extend_schema(
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="Markdown"),
            **errors(401, 404),
        }
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<number>\d{1,18})/export",
        renderer_classes=[JSONRenderer],
        content_negotiation_class=FirstRendererNegotiation,
    )
    def export(self, request, slug=None, number=None):
        from checklists.selectors import export_filename, version_markdown

        version = self._version(slug, int(number))
        response = HttpResponse(
            version_markdown(version), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{export_filename(version)}"'
        return response

    @extend_schema(
        request={
            "multipart/form-data": ImportRequestSerializer,
            "application/json": ImportRequestSerializer,
            "text/markdown": OpenApiTypes.STR,
        },
        responses={
            201: ImportResultSerializer,
            200: OpenApiResponse(ImportResultSerializer, description="Unchanged document"),
            **errors(400, 401, 403, 413, 415, 429),
        },
        description=(
            "Import a Markdown checklist as a draft (``publish=true`` publishes it at once). "
            "Send multipart ``file``, JSON ``content`` + ``source_name``, or a raw text/markdown "
            "body with ``slug`` and ``source_name`` in the query string."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[JSONParser, MultiPartParser, FormParser, MarkdownParser],
    )
    def import_document(self, request):
        from checklists.services import checklist_import

        if not is_curator(request.user):
            raise Forbidden("Only checklist curators can import checklists.", code="not_curator")
        raw, serializer = None, None
        try:
            data = request.data
        except RequestDataTooBig:
            raise self._too_large(request.query_params.get("source_name") or "document") from None
        # A JSON body that is not an object (a list, a string) goes to the serializer: 400.
        if isinstance(data, Mapping) and isinstance(data.get("content"), bytes):  # raw Markdown
            raw = data["content"]
            serializer = ImportRequestSerializer(
                data={**request.query_params.dict(), "content": ""}
            )
        else:
            serializer = ImportRequestSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        upload = params.get("file")
        source_name = params.get("source_name") or getattr(upload, "name", "") or "document.md"
        if upload is not None:
            if upload.size > MAX_DOCUMENT_BYTES:
                raise self._too_large(source_name)
            raw = upload.read()
        elif raw is None:
            raw = params["content"].encode("utf-8", errors="replace")
        if len(raw) > MAX_DOCUMENT_BYTES:
            raise self._too_large(source_name)
        result = checklist_import(
            actor=request.user,
            data=raw,
            source_name=source_name,
            slug=params.get("slug") or None,
            publish=params["publish"],
            changelog=params.get("changelog", ""),
        )
        body = {
            "slug": result.template.slug,
            "created": result.created,
            "version": VersionRefSerializer(result.version).data,
            "warnings": list(result.warnings),
        }
        return Response(
            body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    def get_throttles(self):
        if self.action == "import_document":
            return [UserOrTokenRateThrottle(), ImportThrottle()]
        return super().get_throttles()

    @staticmethod
    def _too_large(name: str) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"{name}: the document is larger than 2 MB.",
            details={"file": name, "limit_bytes": MAX_DOCUMENT_BYTES},
        )
