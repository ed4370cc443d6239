"""Leads and curators must enrol TOTP before they use the app (SPECGATE_MFA_REQUIRED)."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from accounts.permissions import is_curator
from reviews.models import Membership, Role

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz", "/api/")


def needs_mfa(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    privileged = (
        user.is_superuser
        or is_curator(user)
        or Membership.objects.filter(user=user, role=Role.LEAD).exists()
    )
    if not privileged:
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.SPECGATE_MFA_REQUIRED_FOR_LEADS
            and not request.path.startswith(EXEMPT_PREFIXES)
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
            and not request.session.get("specgate_mfa_ok")
        ):
            if needs_mfa(request.user):
                messages.warning(
                    request,
                    "Leads and curators must set up two-factor authentication before going on.",
                )
                return redirect(reverse("mfa_activate_totp"))
            request.session["specgate_mfa_ok"] = True
        return self.get_response(request)
