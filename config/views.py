"""Operations endpoints and the JSON error pages."""

import logging

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


def _error_page(request, status_code, code, message, template):
    if _wants_json(request):
        return JsonResponse(error_body(code, message), status=status_code)
    from django.shortcuts import render

    return render(request, template, {"message": message}, status=status_code)


def handler400(request, exception=None):
    return _error_page(
        request, 400, "bad_request", "The request could not be understood.", "400.html"
    )


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
