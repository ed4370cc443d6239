"""Operations endpoints and the JSON error pages."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from config.api import error_body

logger = logging.getLogger("specgate.ops")


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not ready"
        logger.warning("readiness check failed: %s", exc)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def _error_page(request, status_code, code, message, template, details=None):
    if _wants_json(request):
        return JsonResponse(error_body(code, message, details), status=status_code)
    from django.shortcuts import render

    return render(request, template, {"message": message}, status=status_code)


def handler400(request, exception=None):
    if too_large := _too_large(request, exception):
        return too_large
    return _error_page(
        request, 400, "bad_request", "The request could not be understood.", "400.html"
    )


def _too_large(request, exception):
    """An oversized body (Django raises these as SuspiciousOperation, answered 400) is 413."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is too large (at most {limit // (1024 * 1024)} MB)."
        details = {"limit_bytes": limit}
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        limit = (
            settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            if isinstance(exception, TooManyFieldsSent)
            else settings.DATA_UPLOAD_MAX_NUMBER_FILES
        )
        kind = "fields" if isinstance(exception, TooManyFieldsSent) else "files"
        message = f"The request has too many {kind} (at most {limit})."
        details = {f"max_{kind}": limit}
        if request.method in ("GET", "HEAD"):  # a query string, not a body
            return _error_page(request, 400, "invalid", message, "400.html", details)
    else:
        return None
    return _error_page(request, 413, "too_large", message, "413.html", details)


def handler403(request, exception=None):
    return _error_page(
        request, 403, "forbidden", "You do not have permission to do this.", "403.html"
    )


def handler404(request, exception=None):
    return _error_page(request, 404, "not_found", "Not found.", "404.html")


def handler500(request):
    return _error_page(
        request, 500, "server_error", "Something went wrong on our side.", "500.html"
    )
