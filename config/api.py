"""API plumbing shared by every app: one error body, pagination, throttling."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from config.errors import DomainError
from config.request_context import get_request_id

logger = logging.getLogger("specgate.api")


def error_body(code: str, message: str, details=None) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details if details is not None else {},
            "request_id": get_request_id(),
        }
    }


def _first_message(details) -> str:
    if isinstance(details, dict):
        for key, value in details.items():
            inner = _first_message(value)
            if inner:
                return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(details, list) and details:
        return _first_message(details[0])
    return str(details) if details else ""


def exception_handler(exc, context):
    """Every error answers {"error": {"code", "message", "details", "request_id"}}."""
    headers = {}
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("too_large", "The request body is too large (at most 3 MB)."), status=413
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    if not isinstance(exc, exceptions.APIException):
        return None  # let Django answer 500 (and log it)
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = _first_message(details) or "The request is not valid."
        body = error_body("invalid", f"Invalid input — {message}", details)
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(code, str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class FixedWindowMixin:
    """Count requests in fixed windows with one atomic cache increment per request.

    DRF's own throttles keep every request's timestamp of the last window in one cache value
    and rewrite it on each request, so their cost grows with the allowed rate; this stays O(1).
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        window_key = f"{key}:{window}"
        self.cache.add(window_key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(window_key)
        except ValueError:  # the key expired between add and incr
            self.cache.set(window_key, 1, timeout=self.duration + 1)
            count = 1
        if count > self.num_requests:
            self.retry_after = self.duration - (now - window * self.duration)
            return False
        return True

    def wait(self):
        return getattr(self, "retry_after", None)


class AnonThrottle(FixedWindowMixin, AnonRateThrottle):
    pass


class UserOrTokenRateThrottle(FixedWindowMixin, UserRateThrottle):
    """Per user for sessions, per token for API tokens."""

    scope = "user"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        token_id = getattr(token, "pk", None)
        if token_id is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"token-{token_id}"}
        return super().get_cache_key(request, view)


class ScopedUserThrottle(FixedWindowMixin, SimpleRateThrottle):
    """A stricter per-user budget for expensive writes; set ``scope`` in a subclass."""

    def get_cache_key(self, request, view):
        ident = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ImportThrottle(ScopedUserThrottle):
    scope = "import"


class TokenCreateThrottle(ScopedUserThrottle):
    scope = "token_create"


__all__ = ["exception_handler", "Pagination"]
