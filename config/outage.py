"""A database outage answers 503 with ``Retry-After``, never a 500.

While the database cannot be reached (stopped, restarting, the network between cut) or drops a
connection, every query raises Django's ``OperationalError`` or ``InterfaceError`` — at
connect time as well as mid-request. ``DatabaseOutageMiddleware`` answers such a request with
503 and ``Retry-After``: the API's error envelope (code ``service_unavailable``) for the API
and JSON clients, a plain HTML page (rendered without the database) for browsers.

Two ways an outage reaches it:
- raised by a view (the API, pages, template rendering): ``process_exception``;
- raised by another middleware (the session, the user, the MFA check query the database
  before any view runs): Django turns it into its 500 page at that layer and sends
  ``got_request_exception``; the receiver marks the request and the middleware, placed outside
  those, replaces the 500 with the 503 (and catches a 500 page that failed in turn).

Nothing is half-written: the failed request's transaction never committed. ``/readyz``
answers 503 by itself while the database is unreachable.
"""

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from config.api import error_body
from config.views import _wants_json  # the API, or a client asking for JSON

logger = logging.getLogger("specgate.outage")

DATABASE_ERRORS = (OperationalError, InterfaceError)
MESSAGE = "The database is unavailable at the moment; try again shortly."
MARK = "_specgate_database_outage"


def retry_after() -> int:
    return int(getattr(settings, "SPECGATE_OUTAGE_RETRY_AFTER", 5))


def outage_response(request) -> HttpResponse:
    """503 with Retry-After; built without touching the database."""
    seconds = retry_after()
    if _wants_json(request):
        response = JsonResponse(
            error_body("service_unavailable", MESSAGE, {"retry_after": seconds}), status=503
        )
    else:
        page = render_to_string("503.html", {"message": MESSAGE, "retry_after": seconds})
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
        response.setdefault(
            "Content-Security-Policy", "default-src 'none'; style-src 'self'; base-uri 'none'"
        )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


def _log(request, exc: BaseException) -> None:
    logger.warning(
        "database unavailable: %s %s answered 503 (%s: %s)",
        request.method,
        request.path,
        type(exc).__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
    )


def _mark_outage(sender, request=None, **kwargs) -> None:
    """got_request_exception: remember that the 500 being built is a database outage."""
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DATABASE_ERRORS):
        setattr(request, MARK, exc)


class DatabaseOutageMiddleware:
    """Place it before (outside) every middleware that reads the database (sessions, users)."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark_outage, dispatch_uid="specgate-database-outage")

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except DATABASE_ERRORS as exc:  # the 500 page itself needed the database
            _log(request, exc)
            return outage_response(request)
        outage = getattr(request, MARK, None)
        if outage is not None and response.status_code == 500:
            _log(request, outage)
            return outage_response(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            _log(request, exception)
            return outage_response(request)
        return None
