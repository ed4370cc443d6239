from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from checklists.models import ChecklistTemplate, Item, TemplateVersion
from config.api import InputSerializer


class VersionSummarySerializer(serializers.ModelSerializer):
    status = serializers.CharField(help_text="draft, published or retired")

    class Meta:
        model = TemplateVersion
        fields = ["id", "number", "status", "title", "changelog", "created_at", "published_at"]


class TemplateSerializer(serializers.ModelSerializer):
    versions = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistTemplate
        fields = ["slug", "title", "description", "created_at", "versions"]

    @extend_schema_field(VersionSummarySerializer(many=True))
    def get_versions(self, template):
        # ``visible_versions`` is prefetched by the view with only what the user may see.
        return VersionSummarySerializer(template.visible_versions, many=True).data


class ItemSerializer(serializers.ModelSerializer):
    severity = serializers.CharField(help_text="must, should or could")

    class Meta:
        model = Item
        fields = [
            "id",
            "key",
            "text",
            "guidance",
            "rationale",
            "severity",
            "is_gate",
            "optional",
            "position",
        ]


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="section.pk")
    title = serializers.CharField()
    items = ItemSerializer(many=True)


class SectionSerializer(GroupSerializer):
    groups = GroupSerializer(many=True)


class VersionDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="version.pk")
    slug = serializers.CharField(source="version.template.slug")
    number = serializers.IntegerField(source="version.number")
    status = serializers.CharField(source="version.status")
    title = serializers.CharField(source="version.display_title")
    description = serializers.CharField(source="version.description")
    changelog = serializers.CharField(source="version.changelog")
    published_at = serializers.DateTimeField(source="version.published_at")
    summary = serializers.SerializerMethodField()
    sections = SectionSerializer(many=True)

    def get_summary(self, tree) -> dict:
        return tree.summary()


class ImportRequestSerializer(InputSerializer):
    file = serializers.FileField(
        required=False, allow_empty_file=True, help_text="The Markdown document (multipart)."
    )
    content = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Or its text (JSON)."
    )
    source_name = serializers.CharField(required=False, max_length=255)
    slug = serializers.CharField(required=False, allow_blank=True, max_length=100)
    publish = serializers.BooleanField(default=False)
    changelog = serializers.CharField(required=False, allow_blank=True, max_length=10_000)

    def validate(self, attrs):
        if attrs.get("file") is None and attrs.get("content") is None:
            raise serializers.ValidationError({"file": ["Send a file (multipart) or content."]})
        return attrs


class VersionRefSerializer(serializers.ModelSerializer):
    status = serializers.CharField(help_text="draft, published or retired")

    class Meta:
        model = TemplateVersion
        fields = ["id", "number", "status"]


class ImportResultSerializer(serializers.Serializer):
    slug = serializers.CharField()
    created = serializers.BooleanField()
    version = VersionRefSerializer()
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="E.g. another checklist has the same title."
    )


class PublishSerializer(InputSerializer):
    changelog = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
