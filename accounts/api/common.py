"""API building blocks shared by every app's ``api`` package: the permission that keeps
read-only tokens read-only, the error body for the schema, and plain-text answers."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers
from rest_framework.negotiation import DefaultContentNegotiation


class TokenScopePermission(permissions.BasePermission):
    """A read-only API token may only read (403 on any write)."""

    message = "This API token is read-only."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        token = getattr(request, "auth", None)
        return not getattr(token, "read_only", False)


API_PERMISSIONS = [permissions.IsAuthenticated, TokenScopePermission]


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField()
    request_id = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def errors(*codes: int) -> dict:
    """``extend_schema(responses=…)`` entries for the error answers an operation can give."""
    text = {
        400: "Invalid input",
        401: "Not authenticated",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict: refused transition or stale version",
        412: "Precondition failed (If-Match)",
        413: "Payload too large",
        415: "Unsupported media type",
        429: "Throttled: retry after the Retry-After header's seconds",
    }
    return {
        code: OpenApiResponse(ErrorSerializer, description=text.get(code, "")) for code in codes
    }


READ_ERRORS = (401, 404)
LIST_ERRORS = (400, 401, 404)


def list_and_detail_schema(serializer, *, detail: bool = True):
    """``extend_schema_view`` for a list (paginated) and, optionally, a detail operation,
    documenting their error answers."""
    views = {"list": extend_schema(responses={200: serializer(many=True), **errors(*LIST_ERRORS)})}
    if detail:
        views["retrieve"] = extend_schema(responses={200: serializer, **errors(*READ_ERRORS)})
    return extend_schema_view(**views)


WRITE_ERRORS = (400, 401, 403, 404, 409)


class FirstRendererNegotiation(DefaultContentNegotiation):
    """For views that answer a file (Markdown, CSV) themselves and JSON only for errors:
    never refuse with 406/404 because of ``Accept`` or ``?format=``."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=10_000)

    @property
    def text(self) -> str:
        data = self.validated_data
        return data.get("comment") or data.get("reason") or ""


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """OpenAPI: personal API tokens go in ``Authorization: Bearer <token>``."""

    target_class = "accounts.api.authentication.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal API token."}


def require_recent_authentication(request) -> None:
    """Browser sessions must have authenticated recently (signed in, or confirmed the
    password) before approving, overriding or creating an API token, over the API as on the pages (the same check as
    ``accounts.reauth``: a sign-in counts); personal tokens are exempt (they are scoped,
    expiring credentials made for integrations)."""
    from rest_framework.authentication import SessionAuthentication

    from accounts.reauth import recently_authenticated
    from config.errors import Forbidden

    if isinstance(request.successful_authenticator, SessionAuthentication) and (
        not recently_authenticated(request._request)
    ):
        raise Forbidden(
            "Confirm your password first (/accounts/reauthenticate/): approving, overriding "
            "and creating API tokens need a recent authentication.",
            code="reauthentication_required",
        )
