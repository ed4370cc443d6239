"""Shapes of the reviews API. Serializers check shape only; the services check the rules."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import Event
from config.api import InputSerializer
from reviews.models import (
    OVERRIDABLE_RULES,
    Decision,
    Finding,
    FindingSeverity,
    FindingStatus,
    Membership,
    Override,
    Project,
    Response,
    Review,
    Role,
    SignOff,
    Spec,
    SpecRevision,
    Verdict,
)
from reviews.selectors import review_progress

TEXT_LIMIT = 10_000
MAX_INT = 2**62  # ids and versions: beyond this a database integer overflows


def _email(user) -> str | None:
    return user.email if user is not None else None


# --- projects ------------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "required_signoffs",
            "important_findings_block",
            "created_at",
        ]


class ProjectCreateSerializer(InputSerializer):
    slug = serializers.SlugField(max_length=100)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)


class ProjectSettingsSerializer(InputSerializer):
    required_signoffs = serializers.IntegerField(required=False, min_value=1, max_value=20)
    important_findings_block = serializers.BooleanField(required=False)


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.label")
    role = serializers.CharField(help_text="viewer, author, reviewer or lead")

    class Meta:
        model = Membership
        fields = ["user", "name", "role", "can_override", "created_at"]


class MemberWriteSerializer(InputSerializer):
    user = serializers.CharField(max_length=254, help_text="The member's e-mail address.")
    role = serializers.ChoiceField(choices=Role.choices)
    can_override = serializers.BooleanField(default=False)


# --- specs ---------------------------------------------------------------------------------


class SpecSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = serializers.EmailField(source="author.email", read_only=True)
    revision = serializers.CharField(source="revision_label", read_only=True)

    class Meta:
        model = Spec
        fields = [
            "id",
            "project",
            "title",
            "link",
            "description",
            "author",
            "revision",
            "revision_number",
            "created_at",
        ]


class SpecCreateSerializer(InputSerializer):
    project = serializers.CharField(max_length=100, help_text="The project's slug.")
    title = serializers.CharField(max_length=300)
    link = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    description = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    revision = serializers.CharField(required=False, allow_blank=True, max_length=100)


class RevisionSerializer(serializers.ModelSerializer):
    posted_by = serializers.EmailField(source="posted_by.email", read_only=True)

    class Meta:
        model = SpecRevision
        fields = ["id", "number", "label", "link", "note", "posted_by", "created_at"]


class RevisionCreateSerializer(InputSerializer):
    label = serializers.CharField(max_length=100)
    link = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)


# --- reviews -------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    answered = serializers.IntegerField()
    unanswered = serializers.IntegerField()
    pass_ = serializers.IntegerField()
    fail = serializers.IntegerField()
    na = serializers.IntegerField()
    percent = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        fields["pass"] = fields.pop("pass_")
        return fields


class TemplateVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="version.pk")
    slug = serializers.CharField(source="version.template.slug")
    title = serializers.CharField(source="version.display_title")
    number = serializers.IntegerField(source="version.number")
    status = serializers.CharField(source="version.status")


class ReviewSerializer(serializers.ModelSerializer):
    spec = serializers.IntegerField(source="spec_id")
    spec_title = serializers.CharField(source="spec.title")
    project = serializers.CharField(source="spec.project.slug")
    created_by = serializers.EmailField(source="created_by.email")
    template_versions = TemplateVersionRefSerializer(source="review_templates", many=True)
    reviewers = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "state",
            "spec",
            "spec_title",
            "project",
            "template_versions",
            "reviewers",
            "due_date",
            "created_by",
            "created_at",
            "updated_at",
            "submitted_at",
            "approved_at",
            "content_version",
            "progress",
        ]

    def get_reviewers(self, review) -> list[str]:
        return sorted({a.user.email for a in review.assignments.all()})

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, review):
        return review_progress(review)


class ReviewDetailSerializer(ReviewSerializer):
    actions = serializers.SerializerMethodField(
        help_text="For each action, why the current user may not do it now (empty: allowed)."
    )

    class Meta(ReviewSerializer.Meta):
        fields = [*ReviewSerializer.Meta.fields, "actions"]

    @extend_schema_field(
        serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    )
    def get_actions(self, review):
        return self.context.get("actions", {})


class ReviewCreateSerializer(InputSerializer):
    spec = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    template_versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT), min_length=1, max_length=20
    )
    reviewers = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=100
    )
    due_date = serializers.DateField(required=False, allow_null=True)


class TransitionSerializer(InputSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_LIMIT)


class MigrateSerializer(InputSerializer):
    to_version = serializers.IntegerField(min_value=1, max_value=MAX_INT)


class GateRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    status = serializers.CharField(help_text="satisfied, unsatisfied, not_applicable or overridden")
    title = serializers.CharField()
    message = serializers.CharField()
    blocking = serializers.ListField(child=serializers.DictField())
    blocking_count = serializers.IntegerField()
    override = serializers.DictField(allow_null=True)


class GateWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            "failed_items",
            "unanswered_should",
            "unanswered_could",
            "open_important_findings",
        ],
        help_text="failed_items (items that failed but are not gate items), unanswered_should, "
        "unanswered_could (unanswered items that are not gate items), open_important_findings "
        "(only where the project does not make important findings block). More codes may be "
        "added.",
    )
    title = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField(help_text="How many items or findings, in all.")
    entries = serializers.ListField(
        child=serializers.DictField(),
        help_text='The first 100: {"type": "item", "item", "key", "text", "verdict", '
        '"severity"} or {"type": "finding", "finding", "severity", "title"}.',
    )


class GateSerializer(serializers.Serializer):
    ready = serializers.BooleanField()
    rules = GateRuleSerializer(many=True)
    warnings = GateWarningSerializer(
        many=True,
        help_text="What does not block approval but a lead should see before approving "
        "(empty when nothing). Never changes `ready`.",
    )
    warnings_digest = serializers.CharField(
        help_text="A short digest of the warnings (empty when none); changes when they do."
    )


class ApprovalSerializer(ReviewDetailSerializer):
    """The approved review, with the gate's warnings as they stood when it was approved."""

    warnings = GateWarningSerializer(many=True, read_only=True)

    class Meta(ReviewDetailSerializer.Meta):
        fields = [*ReviewDetailSerializer.Meta.fields, "warnings"]


# --- answers -------------------------------------------------------------------------------


class ResponseItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    text = serializers.CharField()
    guidance = serializers.CharField()
    severity = serializers.CharField()
    is_gate = serializers.BooleanField()
    optional = serializers.BooleanField()
    section = serializers.CharField(source="section.title")
    template = serializers.CharField(source="version.template.slug")


class ResponseSerializer(serializers.ModelSerializer):
    item = ResponseItemSerializer()
    answered_by = serializers.SerializerMethodField()

    class Meta:
        model = Response
        fields = [
            "item",
            "verdict",
            "note",
            "version",
            "needs_recheck",
            "reset_reason",
            "answered_by",
            "answered_at",
        ]
        extra_kwargs = {
            "reset_reason": {
                "help_text": "Set when the system put the answer back to re-check, naming the "
                'event (e.g. "revision r2"); answered_by is then null.'
            }
        }

    def get_answered_by(self, response) -> str | None:
        return _email(response.answered_by)


class ResponseWriteSerializer(InputSerializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices, required=False)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_LIMIT, trim_whitespace=False
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_INT,
        help_text="The version you read; a stale one answers 409.",
    )


class BatchEntrySerializer(ResponseWriteSerializer):
    item = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    verdict = serializers.ChoiceField(choices=Verdict.choices)


class BatchSerializer(InputSerializer):
    responses = BatchEntrySerializer(many=True, min_length=1, max_length=2000)


class BatchResultSerializer(serializers.Serializer):
    responses = ResponseSerializer(many=True)


# --- findings, sign-offs, overrides ----------------------------------------------------------


class FindingSerializer(serializers.ModelSerializer):
    severity = serializers.CharField(help_text="critical, important, suggestion or strength")
    status = serializers.CharField(help_text="open, resolved or wont_fix")
    raised_by = serializers.SerializerMethodField()
    resolved_by = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "review",
            "item",
            "severity",
            "title",
            "location",
            "impact",
            "recommendation",
            "verification",
            "status",
            "resolution_note",
            "raised_by",
            "resolved_by",
            "created_at",
            "updated_at",
            "version",
        ]

    def get_raised_by(self, finding) -> str | None:
        return _email(finding.raised_by)

    def get_resolved_by(self, finding) -> str | None:
        return _email(finding.resolved_by)


def _text(limit=TEXT_LIMIT, **kwargs):
    return serializers.CharField(required=False, allow_blank=True, max_length=limit, **kwargs)


class FindingCreateSerializer(InputSerializer):
    severity = serializers.ChoiceField(choices=FindingSeverity.choices)
    title = serializers.CharField(max_length=300)
    location = _text(500)
    impact = _text()
    recommendation = _text()
    verification = _text()
    item = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_INT)


class FindingUpdateSerializer(InputSerializer):
    severity = serializers.ChoiceField(choices=FindingSeverity.choices, required=False)
    title = serializers.CharField(max_length=300, required=False)
    location = _text(500)
    impact = _text()
    recommendation = _text()
    verification = _text()
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)


class FindingResolveSerializer(InputSerializer):
    note = serializers.CharField(max_length=TEXT_LIMIT)
    status = serializers.ChoiceField(
        choices=[FindingStatus.RESOLVED, FindingStatus.WONT_FIX], default=FindingStatus.RESOLVED
    )
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)


class FindingReopenSerializer(InputSerializer):
    note = _text()
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INT)


class SignOffSerializer(serializers.ModelSerializer):
    user = serializers.EmailField(source="user.email")
    role = serializers.CharField(help_text="reviewer or lead")

    class Meta:
        model = SignOff
        fields = [
            "id",
            "user",
            "role",
            "decision",
            "comment",
            "created_at",
            "digest",
            "stale",
            "stale_reason",
        ]


class SignOffCreatedSerializer(SignOffSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What the reviewer should know (e.g. most items still unanswered); the "
        "sign-off was recorded all the same.",
    )

    class Meta(SignOffSerializer.Meta):
        fields = [*SignOffSerializer.Meta.fields, "warnings"]


class SignOffCreateSerializer(InputSerializer):
    decision = serializers.ChoiceField(
        choices=Decision.choices,
        default=Decision.APPROVE,
        help_text="approve (counts toward the quorum) or request_changes (never counts; while "
        "it covers the current content it blocks approval: gate rule signoffs).",
    )
    comment = _text()


class OverrideSerializer(serializers.ModelSerializer):
    granted_by = serializers.EmailField(source="granted_by.email")
    rule = serializers.CharField()
    active = serializers.SerializerMethodField()

    class Meta:
        model = Override
        fields = ["id", "rule", "justification", "expires_at", "granted_by", "created_at", "active"]

    def get_active(self, override) -> bool:
        return override.is_active(override.review)


class OverrideCreateSerializer(InputSerializer):
    rule = serializers.ChoiceField(choices=[str(r) for r in OVERRIDABLE_RULES])
    justification = serializers.CharField(max_length=TEXT_LIMIT)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


# --- events --------------------------------------------------------------------------------


class EventObjectSerializer(serializers.Serializer):
    type = serializers.CharField(source="object_type")
    id = serializers.IntegerField(source="object_id", allow_null=True)
    repr = serializers.CharField(source="object_repr")


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="E-mail, or null for the system.")
    object = EventObjectSerializer(source="*")
    project = serializers.SerializerMethodField()
    review = serializers.IntegerField(source="review_id", allow_null=True)
    cause = serializers.IntegerField(source="cause_id", allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "verb",
            "actor",
            "actor_label",
            "object",
            "project",
            "review",
            "cause",
            "before",
            "after",
            "request_id",
            "created_at",
        ]

    def get_actor(self, event) -> str | None:
        return _email(event.actor)

    def get_project(self, event) -> str | None:
        return self.context.get("project_slugs", {}).get(event.project_id)
