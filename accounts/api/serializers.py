from rest_framework import serializers

from accounts.models import ApiToken, User
from accounts.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS
from config.api import InputSerializer


class MeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="label", read_only=True)
    is_curator = serializers.SerializerMethodField()
    projects = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "name", "is_staff", "is_superuser", "is_curator", "projects"]

    def get_is_curator(self, user) -> bool:
        from accounts.permissions import is_curator

        return is_curator(user)

    def get_projects(self, user) -> list[dict]:
        return [
            {"slug": slug, "role": role}
            for slug, role in user.memberships.values_list("project__slug", "role")
        ]


class TokenSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "read_only",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
        ]
        read_only_fields = fields


class TokenCreateSerializer(InputSerializer):
    name = serializers.CharField(max_length=100)
    read_only = serializers.BooleanField(default=False)
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        required=False,  # not null: every token expires
        help_text=(
            f"Days until the token expires, 1 to {MAX_TOKEN_DAYS} (default {DEFAULT_TOKEN_DAYS})."
            " A token created with a token expires no later than that token."
        ),
    )


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields
