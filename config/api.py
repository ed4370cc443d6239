"""API plumbing shared by every app: one error body, typed JSON input, pagination,
throttling."""

import logging
import re
from collections.abc import Mapping

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, QueryDict
from rest_framework import exceptions, filters, parsers, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from config.errors import DomainError, InvalidInput
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
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        exc = _throttle_unauthenticated(exc, context)
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


def _throttle_unauthenticated(exc, context):
    """DRF authenticates (a bad token fails) and checks permissions (no credentials fail)
    before it throttles, so a flood of unauthenticated calls was answered 401 forever. Each
    one is counted here against the anonymous budget of its client address (the same counter
    as AnonThrottle's): past it, 429 with Retry-After."""
    request, view = context.get("request"), context.get("view")
    if request is None:
        return exc
    throttle = AnonThrottle()
    if throttle.allow_request(request, view):
        return exc
    return exceptions.Throttled(wait=throttle.wait())


# Deeper than any body the API takes (a batch of answers with evidence is 4 levels); Python's
# own JSON decoder gives up near 1,000 with a RecursionError, and code that walks the data
# later (validation, hashing, events) recurses too.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests arrays and objects more than ``limit`` deep (iterative)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep() -> InvalidInput:
    return InvalidInput(
        f"JSON parse error — the document is nested more than {MAX_JSON_DEPTH} levels deep.",
        code="parse_error",
        details={"max_depth": MAX_JSON_DEPTH},
    )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser for every endpoint, refusing with 400 documents nested too deeply
    (past ~1,000 levels Python's decoder raised RecursionError: 500).

    Text with NUL, which PostgreSQL cannot store, is refused by the fields that read it
    (DRF's CharField, 400 naming the field); properties no serializer declares are ignored, as
    the schema allows, so the parser does not refuse NUL in them."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if json_depth_exceeds(data):
            raise _too_deep()
        return data


# RFC 3339, as OpenAPI's ``date`` and ``date-time`` formats mean; Python's ISO parsers also take
# week dates, basic formats, a missing offset and more, which the schema does not promise.
RFC3339_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
RFC3339_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def json_type_problem(field, value) -> str | None:
    """Why ``value`` (parsed JSON, not null) does not have the type the schema gives ``field``,
    or None. DRF itself turns 5 into "5", "0" into false, "7" and 7.0 into 7."""
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "Must be a whole number."
    if isinstance(field, serializers.DateTimeField):
        ok = isinstance(value, str) and RFC3339_DATE_TIME.fullmatch(value)
        return None if ok else "Must be a date and time such as 2026-05-01T09:30:00Z."
    if isinstance(field, serializers.DateField):
        ok = isinstance(value, str) and RFC3339_DATE.fullmatch(value)
        return None if ok else "Must be a date such as 2026-05-01."
    if isinstance(field, serializers.ChoiceField):
        if all(isinstance(key, str) for key in field.choices):
            return None if isinstance(value, str) else "Must be one of the listed strings."
        return None
    if isinstance(field, serializers.CharField):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return "Must be a list."
        for element in value:
            if element is not None and (problem := json_type_problem(field.child, element)):
                return problem
    return None


class InputSerializer(serializers.Serializer):
    """A request body read from JSON: every value must already have the type the schema
    states (400 otherwise) instead of being coerced by DRF. Form data (the multipart
    checklist import) is text by nature and is left to the fields."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping) or isinstance(data, QueryDict):
            return super().to_internal_value(data)
        wrong, upper = {}, {}
        for field in self._writable_fields:
            value = data.get(field.field_name)
            if value is not None and (problem := json_type_problem(field, value)):
                wrong[field.field_name] = [problem]
            elif value is not None and isinstance(field, serializers.DateTimeField):
                upper[field.field_name] = value.upper()  # RFC 3339 allows "t" and "z"
        data = {**{k: v for k, v in data.items() if k not in wrong}, **upper}
        try:
            internal = super().to_internal_value(data)
        except exceptions.ValidationError as exc:  # report every field, as DRF does
            raise exceptions.ValidationError({**exc.detail, **wrong}) from None
        if wrong:
            raise exceptions.ValidationError(wrong)
        return internal


def _page_parameter(request, name: str) -> int | None:
    """A whole-number query parameter ≥ 1, None when absent; anything else (repeated, empty,
    zero, signs, decimals) is refused with 400 instead of being replaced by a default."""
    if name not in request.query_params:
        return None
    values = request.query_params.getlist(name)
    value = values[0]
    if len(values) > 1 or not (value.isascii() and value.isdigit() and value.strip("0")):
        raise exceptions.ValidationError({name: ["Give one whole number, 1 or more."]})
    digits = value.lstrip("0")
    return int(digits) if len(digits) <= 18 else 10**18  # past any page; int() stays cheap


class StrictPageSizeMixin:
    """``page_size`` is a whole number ≥ 1 (larger than ``max_page_size`` is capped to it);
    a malformed one answers 400, and the schema says so."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        size = _page_parameter(request, self.page_size_query_param)
        if size is None:
            return self.page_size
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Number of results to return per page (at most {self.max_page_size}; "
                    "a larger number is capped)."
                )
        return parameters


class Pagination(StrictPageSizeMixin, PageNumberPagination):
    """Page numbers are whole numbers ≥ 1 (400 otherwise); past the last page answers 404."""

    def get_page_number(self, request, paginator):
        return _page_parameter(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class SearchFilter(filters.SearchFilter):
    """DRF's search, whose schema says what it refuses: a term with NUL (400)."""

    def get_schema_operation_parameters(self, view):
        from config.schema import TEXT_PATTERN

        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], "pattern": TEXT_PATTERN}
        return parameters


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
        count = self._increment(window_key, timeout=self.duration + 1)
        if count > self.num_requests:
            self.retry_after = self.duration - (now - window * self.duration)
            return False
        return True

    def _increment(self, key: str, timeout: int) -> int:
        """Add one to the window's counter and return the new count."""
        backend = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        if isinstance(backend, RedisCache):
            # One round trip: INCR creates the key at 1, EXPIRE keeps it for the window (Django's
            # add + incr takes three).
            redis_key = backend.make_and_validate_key(key)
            with backend._cache.get_client(redis_key, write=True).pipeline() as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, timeout)
                count, _ = pipe.execute()
            return count
        self.cache.add(key, 0, timeout=timeout)
        try:
            return self.cache.incr(key)
        except ValueError:  # the key expired between add and incr
            self.cache.set(key, 1, timeout=timeout)
            return 1

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


__all__ = [
    "exception_handler",
    "InputSerializer",
    "JSONParser",
    "Pagination",
    "SearchFilter",
    "StrictPageSizeMixin",
]
