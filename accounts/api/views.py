"""Personal API tokens and the current user."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.common import (
    API_PERMISSIONS,
    errors,
    list_and_detail_schema,
    require_recent_authentication,
)
from accounts.api.serializers import (
    IssuedTokenSerializer,
    MeSerializer,
    TokenCreateSerializer,
    TokenSerializer,
)
from accounts.models import ApiToken
from accounts.services import token_create, token_revoke
from config.api import TokenCreateThrottle, UserOrTokenRateThrottle


class MeView(APIView):
    permission_classes = API_PERMISSIONS

    @extend_schema(responses={200: MeSerializer, **errors(401)}, tags=["accounts"])
    def get(self, request):
        return Response(MeSerializer(request.user).data)


@extend_schema(tags=["accounts"])
@list_and_detail_schema(TokenSerializer)
class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in user's own API tokens. The raw token is shown once, when created."""

    permission_classes = API_PERMISSIONS
    serializer_class = TokenSerializer
    lookup_value_regex = r"\d{1,18}"
    filter_backends: list = []

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user).order_by("-created_at", "-id")

    def get_throttles(self):
        if self.action == "create":
            return [UserOrTokenRateThrottle(), TokenCreateThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: IssuedTokenSerializer, **errors(400, 401, 403, 429)},
    )
    def create(self, request):
        # A browser session confirms the password first, as on the tokens page; a token may
        # create tokens, but none that outlives it or reaches further (the service's rule).
        require_recent_authentication(request)
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issued = token_create(
            actor=request.user,
            name=data["name"],
            read_only=data["read_only"],
            expires_in_days=data.get("expires_in_days"),
            parent=request.auth if isinstance(request.auth, ApiToken) else None,
        )
        body = TokenSerializer(issued.token).data
        body["token"] = issued.raw
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None, **errors(401, 403, 404)})
    def destroy(self, request, pk=None):
        token_revoke(actor=request.user, token_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: TokenSerializer, **errors(401, 403, 404)})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = token_revoke(actor=request.user, token_id=int(pk))
        return Response(TokenSerializer(token).data)
