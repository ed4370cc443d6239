"""Recent authentication: approving, overriding and creating API tokens need the user to have
proved who they are within the last few minutes (``ACCOUNT_REAUTHENTICATION_TIMEOUT``, allauth's
five minutes by default).

allauth's own check (``reauthentication_required``) counts only a confirmation on its
reauthentication page, so a user who signed in (with their password, and MFA) seconds ago was
asked for the password again. Here every authentication allauth records in the session counts:
the sign-in's password, its second factor, and a later confirmation alike. The browser's
decorator and the API's check share :func:`recently_authenticated`.
"""

import time
from functools import wraps

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.flows.reauthentication import get_reauthentication_flows
from allauth.core.exceptions import ReauthenticationRequired


def recently_authenticated(request) -> bool:
    """Whether the signed-in user authenticated (signed in, passed MFA, or confirmed their
    password) within the reauthentication timeout, in this session."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if not get_reauthentication_flows(user):
        # No password and no authenticator to confirm (allauth's rule): nothing to ask.
        return True
    times = [
        record.get("at")
        for record in get_authentication_records(request, user)
        if isinstance(record, dict) and isinstance(record.get("at"), int | float)
    ]
    if not times:
        return False
    return time.time() - max(times) < account_settings.REAUTHENTICATION_TIMEOUT


def recent_authentication_required(function=None, *, enabled=None, allow_get=False):
    """``allauth.account.decorators.reauthentication_required`` with :func:`recently_authenticated`:
    without a recent authentication the request is suspended and the user sent to confirm their
    password, then brought back to it (allauth's ``next`` round trip)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            active = enabled is None or (enabled(request) if callable(enabled) else enabled)
            skip = allow_get and request.method in ("GET", "HEAD")
            if active and not skip and not recently_authenticated(request):
                raise ReauthenticationRequired()
            return view(request, *args, **kwargs)

        return wrapper

    return decorator(function) if function is not None else decorator
