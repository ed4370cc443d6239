"""What lives under a review: answers, findings, sign-offs and overrides."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.common import errors, require_recent_authentication
from audit.cache import cached_read
from config.errors import NotFound
from reviews.api.serializers import (
    BatchResultSerializer,
    BatchSerializer,
    FindingCreateSerializer,
    FindingReopenSerializer,
    FindingResolveSerializer,
    FindingSerializer,
    FindingUpdateSerializer,
    OverrideCreateSerializer,
    OverrideSerializer,
    ResponseSerializer,
    ResponseWriteSerializer,
    SignOffCreatedSerializer,
    SignOffCreateSerializer,
    SignOffSerializer,
)
from reviews.api.views._common import etag, if_match_version, visible_review
from reviews.filtersets import FindingFilterSet
from reviews.models import Finding, Review
from reviews.models import Response as Answer
from reviews.selectors import (
    answer_to_write,
    findings_for_review,
    responses_for_review,
    signoffs_for_review,
)
from reviews.services import (
    AnswerInput,
    finding_raise,
    finding_reopen,
    finding_resolve,
    finding_update,
    override_grant,
    response_save,
    response_save_batch,
    response_state,
    signoff_create,
)
from reviews.services.findings import finding_state

ITEM_ID = OpenApiParameter("item_id", int, OpenApiParameter.PATH)
FINDING_ID = OpenApiParameter("finding_id", int, OpenApiParameter.PATH)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='The version you read, as its ETag ("3"); a mismatch answers 412.',
)


def _answer(review, item_id) -> Answer:
    answer = responses_for_review(review).filter(item_id=item_id).first()
    if answer is None:
        raise NotFound(f"Item {item_id} is not part of this review.")
    return answer


def _with_etag(data, version: int, status_code=status.HTTP_200_OK) -> Response:
    return Response(data, status=status_code, headers={"ETag": etag(version)})


class ReviewChildrenMixin:
    # --- answers -------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        responses={200: ResponseSerializer(many=True), **errors(400, 401, 404)},
        description="A page of the review's answers, in checklist order.",
    )
    @extend_schema(
        methods=["PATCH"],
        operation_id="reviews_responses_batch_update",
        request=BatchSerializer,
        responses={200: BatchResultSerializer, **errors(400, 401, 403, 404, 409)},
        description="Save several answers: all or nothing; the error names the failing entry.",
    )
    @action(detail=True, methods=["get", "patch"], filter_backends=[])
    def responses(self, request, pk=None):
        review = visible_review(request.user, pk)
        if request.method == "GET":

            def build():
                answers = responses_for_review(review)
                verdict = request.query_params.get("verdict")
                if verdict:
                    answers = answers.filter(verdict=verdict)
                page = self.paginate_queryset(answers)
                return self.get_paginated_response(ResponseSerializer(page, many=True).data).data

            key = ("responses", review.pk, request.build_absolute_uri())
            return Response(cached_read(request.user, key, build))
        serializer = BatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entries = serializer.validated_data["responses"]
        missing_notes = [e["item"] for e in entries if "note" not in e]
        notes = dict(
            Answer.objects.filter(review=review, item_id__in=missing_notes).values_list(
                "item_id", "note"
            )
        )
        saved = response_save_batch(
            actor=request.user,
            review=review,
            entries=[
                AnswerInput(
                    item_id=e["item"],
                    verdict=e["verdict"],
                    note=e["note"] if "note" in e else notes.get(e["item"], ""),
                    version=e.get("version"),
                )
                for e in entries
            ],
        )
        answers = responses_for_review(review).filter(item_id__in=[r.item_id for r in saved])
        by_item = {a.item_id: a for a in answers}
        return Response(
            {"responses": ResponseSerializer([by_item[r.item_id] for r in saved], many=True).data}
        )

    @extend_schema(
        methods=["GET"],
        parameters=[ITEM_ID],
        responses={200: ResponseSerializer, **errors(401, 404)},
    )
    @extend_schema(
        methods=["PATCH"],
        parameters=[ITEM_ID, IF_MATCH],
        request=ResponseWriteSerializer,
        responses={200: ResponseSerializer, **errors(400, 401, 403, 404, 409, 412)},
        description=(
            "Answer one item. Give the ``version`` you read (or ``If-Match``); a stale version "
            "answers 409 with the current answer in error.details.current."
        ),
    )
    @action(
        detail=True,
        methods=["get", "patch"],
        url_path=r"responses/(?P<item_id>\d{1,18})",
        filter_backends=[],
    )
    def response(self, request, pk=None, item_id=None):
        if request.method == "GET":
            answer = _answer(visible_review(request.user, pk), int(item_id))
            return _with_etag(ResponseSerializer(answer).data, answer.version)
        # A save is the hot path of a review: one read, scoped to what the user may see.
        answer = answer_to_write(request.user, int(pk), int(item_id))
        if answer is None:
            _answer(visible_review(request.user, pk), int(item_id))  # the 404 that applies
        serializer = ResponseWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        matched = if_match_version(request, answer.version, lambda: response_state(answer))
        version = data.get("version", matched)
        saved, _ = response_save(
            actor=request.user,
            review=Review(pk=answer.review_id),  # the service locks and reads it itself
            item_id=answer.item_id,
            verdict=data.get("verdict", answer.verdict),
            note=data.get("note", answer.note),
            version=version,
        )
        # The item did not move; the answer's own fields come from the save (no re-read).
        for name in ("verdict", "note", "version", "needs_recheck", "reset_reason", "answered_at"):
            setattr(answer, name, getattr(saved, name))
        answer.answered_by = saved.answered_by
        return _with_etag(ResponseSerializer(answer).data, answer.version)

    # --- findings ------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter("status", str, enum=["open", "resolved", "wont_fix"]),
            OpenApiParameter(
                "severity", str, enum=["critical", "important", "suggestion", "strength"]
            ),
        ],
        responses={200: FindingSerializer(many=True), **errors(400, 401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        request=FindingCreateSerializer,
        responses={201: FindingSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def findings(self, request, pk=None):
        review = visible_review(request.user, pk)
        if request.method == "GET":
            filterset = FindingFilterSet(request.query_params, findings_for_review(review))
            if not filterset.is_valid():
                from rest_framework.exceptions import ValidationError

                raise ValidationError(filterset.errors)
            page = self.paginate_queryset(filterset.qs)
            return self.get_paginated_response(FindingSerializer(page, many=True).data)
        serializer = FindingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        item_id = data.pop("item", None)
        finding = finding_raise(actor=request.user, review=review, item_id=item_id, **data)
        return _with_etag(FindingSerializer(finding).data, finding.version, status.HTTP_201_CREATED)

    def _finding(self, review, finding_id) -> Finding:
        return get_object_or_404(findings_for_review(review), pk=finding_id)

    @extend_schema(
        methods=["GET"],
        parameters=[FINDING_ID],
        responses={200: FindingSerializer, **errors(401, 404)},
    )
    @extend_schema(
        methods=["PATCH"],
        parameters=[FINDING_ID, IF_MATCH],
        request=FindingUpdateSerializer,
        responses={200: FindingSerializer, **errors(400, 401, 403, 404, 409, 412)},
    )
    @action(
        detail=True,
        methods=["get", "patch"],
        url_path=r"findings/(?P<finding_id>\d{1,18})",
        filter_backends=[],
    )
    def finding(self, request, pk=None, finding_id=None):
        review = visible_review(request.user, pk)
        finding = self._finding(review, int(finding_id))
        if request.method == "GET":
            return _with_etag(FindingSerializer(finding).data, finding.version)
        serializer = FindingUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        matched = if_match_version(request, finding.version, lambda: finding_state(finding))
        version = changes.pop("version", matched)
        finding = finding_update(
            actor=request.user, finding=finding, changes=changes, version=version
        )
        finding = self._finding(review, finding.pk)
        return _with_etag(FindingSerializer(finding).data, finding.version)

    @extend_schema(
        parameters=[FINDING_ID],
        request=FindingResolveSerializer,
        responses={200: FindingSerializer, **errors(400, 401, 403, 404, 409)},
        description="open → resolved (or ``wont_fix``) with a note.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"findings/(?P<finding_id>\d{1,18})/resolve",
        filter_backends=[],
    )
    def resolve_finding(self, request, pk=None, finding_id=None):
        review = visible_review(request.user, pk)
        finding = self._finding(review, int(finding_id))
        serializer = FindingResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        finding = finding_resolve(actor=request.user, finding=finding, **serializer.validated_data)
        finding = self._finding(review, finding.pk)
        return _with_etag(FindingSerializer(finding).data, finding.version)

    @extend_schema(
        parameters=[FINDING_ID],
        request=FindingReopenSerializer,
        responses={200: FindingSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"findings/(?P<finding_id>\d{1,18})/reopen",
        filter_backends=[],
    )
    def reopen_finding(self, request, pk=None, finding_id=None):
        review = visible_review(request.user, pk)
        finding = self._finding(review, int(finding_id))
        serializer = FindingReopenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        finding = finding_reopen(actor=request.user, finding=finding, **serializer.validated_data)
        finding = self._finding(review, finding.pk)
        return _with_etag(FindingSerializer(finding).data, finding.version)

    # --- sign-offs and overrides ---------------------------------------------------------

    @extend_schema(
        methods=["GET"], responses={200: SignOffSerializer(many=True), **errors(400, 401, 404)}
    )
    @extend_schema(
        methods=["POST"],
        request=SignOffCreateSerializer,
        responses={201: SignOffCreatedSerializer, **errors(400, 401, 403, 404, 409)},
        description="A reviewer's sign-off on the current content: `decision` is `approve` "
        "(default; counts toward the gate's quorum) or `request_changes` (never counts, and "
        "blocks approval while it covers the current content). Signing off while most items are "
        "unanswered is allowed (201) and says so in `warnings`.",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def signoffs(self, request, pk=None):
        review = visible_review(request.user, pk)
        if request.method == "GET":
            page = self.paginate_queryset(signoffs_for_review(review))
            return self.get_paginated_response(SignOffSerializer(page, many=True).data)
        serializer = SignOffCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signoff = signoff_create(
            actor=request.user,
            review=review,
            comment=serializer.validated_data.get("comment", ""),
            decision=serializer.validated_data["decision"],
        )
        return Response(SignOffCreatedSerializer(signoff).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], responses={200: OverrideSerializer(many=True), **errors(400, 401, 404)}
    )
    @extend_schema(
        methods=["POST"],
        request=OverrideCreateSerializer,
        responses={201: OverrideSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def overrides(self, request, pk=None):
        review = visible_review(request.user, pk)
        if request.method == "GET":
            overrides = review.overrides.select_related("granted_by", "review").order_by(
                "created_at", "id"
            )
            page = self.paginate_queryset(overrides)
            return self.get_paginated_response(OverrideSerializer(page, many=True).data)
        require_recent_authentication(request)
        serializer = OverrideCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        override = override_grant(actor=request.user, review=review, **serializer.validated_data)
        return Response(OverrideSerializer(override).data, status=status.HTTP_201_CREATED)
