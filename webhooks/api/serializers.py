from rest_framework import serializers

from config.api import InputSerializer
from webhooks.models import EVENT_TYPE_CHOICES, Delivery, Webhook


class WebhookSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.EmailField(source="created_by.email", read_only=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "project",
            "url",
            "events",
            "active",
            "failure_count",
            "disabled_reason",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: store it now.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookCreateSerializer(InputSerializer):
    project = serializers.CharField(max_length=100, help_text="The project's slug.")
    url = serializers.CharField(max_length=1000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES),
        required=False,
        max_length=50,
        help_text="Event types to send; empty or missing: all.",
    )
    secret = serializers.CharField(
        required=False, allow_blank=True, min_length=16, max_length=128, write_only=True
    )


class WebhookUpdateSerializer(InputSerializer):
    url = serializers.CharField(required=False, max_length=1000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES), required=False, max_length=50
    )
    active = serializers.BooleanField(required=False)
    secret = serializers.CharField(required=False, min_length=16, max_length=128, write_only=True)


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(source="event_id")
    status = serializers.CharField(help_text="pending, succeeded or failed")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "guid",
            "event",
            "event_type",
            "attempt",
            "status",
            "status_code",
            "duration_ms",
            "response_excerpt",
            "error",
            "created_at",
            "next_attempt_at",
            "attempted_at",
            "delivered_at",
        ]
