"""Leads, curators and superusers must enrol TOTP before they use the app with a browser session
(SPECGATE_MFA_REQUIRED): the pages send them to enrol, the API answers 403 ``mfa_required``.
Requests with a personal API token are not asked: tokens are created behind this check."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework.authentication import get_authorization_header

from accounts.api.authentication import TokenAuthentication
from accounts.permissions import CURATOR_GROUP
from config.api import error_body
from reviews.models import Membership, Role

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz")
API_PREFIX = "/api/"
# Readable without signing in, so nothing to protect: the OpenAPI schema and its docs page.
PUBLIC_API_PREFIXES = ("/api/schema/", "/api/docs/")
BEARER = TokenAuthentication.keyword.lower().encode()


def needs_mfa(user) -> bool:
    """Is ``user`` a superuser, a curator or a lead anywhere, without a TOTP authenticator?

    One query, asked afresh on every request instead of remembered in the session, so a
    promotion, a new curator or a removed authenticator counts from the next request on."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    User = get_user_model()
    is_lead = Membership.objects.filter(user=OuterRef("pk"), role=Role.LEAD)
    is_curator = User.groups.through.objects.filter(user=OuterRef("pk"), group__name=CURATOR_GROUP)
    has_totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    return (
        User._default_manager.filter(pk=user.pk)
        .filter(Q(is_superuser=True) | Exists(is_lead) | Exists(is_curator))
        .exclude(Exists(has_totp))
        .exists()
    )


def _has_bearer_token(request) -> bool:
    """DRF authenticates such a request by its token or refuses it (401); it never falls back
    to the session cookie that may come with it."""
    header = get_authorization_header(request).split()
    return bool(header) and header[0].lower() == BEARER


def _session_user_to_check(request):
    """The browser-session user this request acts as, or None when the check does not apply."""
    path = request.path
    if path.startswith(EXEMPT_PREFIXES):
        return None
    if path.startswith(API_PREFIX) and (
        path.startswith(PUBLIC_API_PREFIXES) or _has_bearer_token(request)
    ):
        return None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SPECGATE_MFA_REQUIRED_FOR_LEADS:
            user = _session_user_to_check(request)
            if user is not None and needs_mfa(user):
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _refuse(request):
        enrol = reverse("mfa_activate_totp")
        if request.path.startswith(API_PREFIX):
            message = (
                "Leads and curators must set up two-factor authentication "
                f"({enrol}) before using the API with a browser session; "
                "personal API tokens are not affected."
            )
            return JsonResponse(error_body("mfa_required", message), status=403)
        messages.warning(
            request, "Leads and curators must set up two-factor authentication before going on."
        )
        return redirect(enrol)
