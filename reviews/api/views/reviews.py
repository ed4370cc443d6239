"""Reviews: create, list, read, the state transitions, the gate and the report."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.api.common import (
    API_PERMISSIONS,
    FirstRendererNegotiation,
    errors,
    list_and_detail_schema,
    require_recent_authentication,
)
from audit.cache import cached_read
from checklists.models import TemplateVersion
from config.errors import InvalidInput
from reviews.api.serializers import (
    ApprovalSerializer,
    GateSerializer,
    MigrateSerializer,
    ReviewCreateSerializer,
    ReviewDetailSerializer,
    ReviewSerializer,
    TransitionSerializer,
)
from reviews.api.views._common import visible_review
from reviews.api.views.children import ReviewChildrenMixin
from reviews.filtersets import ReviewFilterSet
from reviews.gate import evaluate_gate
from reviews.permissions import specs_visible_to
from reviews.selectors import reviews_for_list
from reviews.services import (
    available_actions,
    review_approve,
    review_create,
    review_migrate,
    review_reopen,
    review_request_changes,
    review_submit,
    review_withdraw,
)

TRANSITION_ERRORS = errors(400, 401, 403, 404, 409)


def _transition_schema(description: str):
    return extend_schema(
        request=TransitionSerializer,
        responses={200: ReviewDetailSerializer, **TRANSITION_ERRORS},
        description=description,
    )


@extend_schema(tags=["reviews"])
@list_and_detail_schema(ReviewSerializer, detail=False)
class ReviewViewSet(
    ReviewChildrenMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = API_PERMISSIONS
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilterSet
    lookup_value_regex = r"\d{1,18}"
    search_fields = ["spec__title", "spec__description"]
    ordering_fields = ["created_at", "updated_at", "due_date", "state", "id"]
    ordering = ["-created_at", "-id"]
    report_as_csv = False  # set by the ``report.csv`` route

    def get_queryset(self):
        return reviews_for_list(self.request.user)

    def _detail(self, review, status_code=status.HTTP_200_OK, extra=None) -> Response:
        review = self.get_queryset().get(pk=review.pk)
        context = {
            "request": self.request,
            "actions": available_actions(review, self.request.user),
        }
        body = ReviewDetailSerializer(review, context=context).data
        if extra:
            body.update(extra)
        return Response(body, status=status_code)

    def list(self, request):
        def build():
            queryset = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(queryset)
            data = ReviewSerializer(page, many=True, context={"request": request}).data
            return self.get_paginated_response(data).data

        return Response(cached_read(request.user, ("reviews", request.build_absolute_uri()), build))

    @extend_schema(responses={200: ReviewDetailSerializer, **errors(401, 404)})
    def retrieve(self, request, pk=None):
        return self._detail(visible_review(request.user, pk))

    @extend_schema(
        request=ReviewCreateSerializer,
        responses={201: ReviewDetailSerializer, **errors(400, 401, 403)},
    )
    def create(self, request):
        serializer = ReviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        spec = specs_visible_to(request.user).select_related("project").filter(pk=data["spec"])
        spec = spec.first()
        if spec is None:
            raise InvalidInput(
                f"No spec {data['spec']} that you can see.", details={"spec": ["Unknown spec."]}
            )
        review = review_create(
            actor=request.user,
            spec=spec,
            template_version_ids=data["template_versions"],
            reviewers=data.get("reviewers") or [],
            due_date=data.get("due_date"),
        )
        return self._detail(review, status.HTTP_201_CREATED)

    # --- transitions -------------------------------------------------------------------------

    def _transition(self, request, pk, service, text_arg="comment"):
        review = visible_review(request.user, pk)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        text = data.get("comment") or data.get("reason") or ""
        review = service(actor=request.user, review=review, **{text_arg: text})
        return self._detail(review)

    @_transition_schema("draft or changes requested → in review.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def submit(self, request, pk=None):
        return self._transition(request, pk, review_submit)

    @_transition_schema("Leads: in review → changes requested.")
    @action(detail=True, methods=["post"], url_path="request-changes", filter_backends=[])
    def request_changes(self, request, pk=None):
        return self._transition(request, pk, review_request_changes)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: ApprovalSerializer, **TRANSITION_ERRORS},
        description=(
            "Leads: in review → approved (ready for development) when the gate allows; "
            "otherwise 409 with the gate's rules in error.details. The gate's warnings (what "
            "does not block: failed non-gate items, unanswered should / could items, open "
            "important findings where they do not block) do not stop an approval here, unlike "
            "on the review page, which asks the lead to confirm them: the 200 answer lists "
            "them in `warnings`, as the gate stood when it approved."
        ),
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request, pk=None):
        require_recent_authentication(request)
        review = visible_review(request.user, pk)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = serializer.validated_data.get("comment") or ""
        review = review_approve(actor=request.user, review=review, comment=comment)
        warnings = review.approval_gate.as_dict()["warnings"]
        return self._detail(review, extra={"warnings": warnings})

    @_transition_schema("Leads: approved → in review, with a reason.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def reopen(self, request, pk=None):
        return self._transition(request, pk, review_reopen, "reason")

    @_transition_schema("Withdraw an open review.")
    @action(detail=True, methods=["post"], filter_backends=[])
    def withdraw(self, request, pk=None):
        return self._transition(request, pk, review_withdraw, "reason")

    @extend_schema(
        request=MigrateSerializer,
        responses={200: ReviewDetailSerializer, **TRANSITION_ERRORS},
        description="Leads: move the review to a newer published version of one of its checklists.",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def migrate(self, request, pk=None):
        review = visible_review(request.user, pk)
        serializer = MigrateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = (
            TemplateVersion.objects.select_related("template")
            .filter(pk=serializer.validated_data["to_version"])
            .first()
        )
        if version is None:
            raise InvalidInput(
                "No such checklist version.", details={"to_version": ["Unknown version."]}
            )
        result = review_migrate(actor=request.user, review=review, to_version=version)
        return self._detail(review, extra={"migration": result})

    # --- gate and report ---------------------------------------------------------------------

    @extend_schema(responses={200: GateSerializer, **errors(401, 404)})
    @action(detail=True, methods=["get"], filter_backends=[])
    def gate(self, request, pk=None):
        review = visible_review(request.user, pk)

        def build():
            result = evaluate_gate(review, request.user)
            return {"body": result.as_dict(), "seconds_valid": result.seconds_valid()}

        gate = cached_read(
            request.user, ("gate", review.pk), build, timeout_of=lambda v: v["seconds_valid"]
        )
        return Response(gate["body"])

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["md", "csv"], description="csv for a spreadsheet")
        ],
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="Markdown"),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
            **errors(401, 404),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        renderer_classes=[JSONRenderer],
        content_negotiation_class=FirstRendererNegotiation,
    )
    def report(self, request, pk=None):
        from reviews.report import render_csv, render_markdown

        review = visible_review(request.user, pk)
        name = f"review-{review.pk}"
        if self.report_as_csv or request.query_params.get("format") == "csv":
            response = HttpResponse(render_csv(review), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        response = HttpResponse(
            render_markdown(review), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = f'inline; filename="{name}.md"'
        return response
