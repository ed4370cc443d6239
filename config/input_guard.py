"""Text the database cannot store is refused at the door, for every page and API call.

PostgreSQL stores and compares no NUL character: a NUL in a filter (``?verdict=%00``), a path
(``/members/a%00b/``) or a form field reached a query and answered 500 (DataError). Every
query parameter, path and form value is checked here once, before any view runs, and a NUL
answers 400 naming the parameter: the error envelope under /api/, the 400 page elsewhere.
JSON bodies are checked by ``config.api.JSONParser``, the API's form bodies (the checklist
import) by its serializer's text fields.
"""

from django.conf import settings
from django.http import QueryDict

from config.views import _error_page

NUL = "\x00"


def _nul_in(values: QueryDict) -> str | None:
    """The first parameter of ``values`` whose name or any value contains NUL."""
    for name, items in values.lists():
        if NUL in name or any(isinstance(v, str) and NUL in v for v in items):
            return name.replace(NUL, "\\x00")
    return None


def nul_problem(request) -> tuple[str, dict] | None:
    """(message, details) for the first NUL in the request's path, query string or form body."""
    refused = ["NUL characters (\\x00) are not allowed."]
    if NUL in request.path_info:
        return "The URL path contains a NUL character (%00), which is not allowed.", {
            "path": refused
        }
    name, where = _nul_in(request.GET), "query parameter"
    if (
        name is None
        and request.method not in ("GET", "HEAD", "OPTIONS")
        and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        and not request.path_info.startswith("/api/")
    ):
        # Browser forms: reading the form here (CsrfViewMiddleware reads it anyway) keeps the
        # check in one place; an oversized form raises RequestDataTooBig, which handler400
        # answers with 413. The API's parsers read its bodies themselves (reading them here
        # would hide a 415), and its text fields refuse NUL.
        name, where = _nul_in(request.POST), "form field"
    if name is None:
        return None
    return f"The {where} {name!r} contains a NUL character, which is not allowed.", {name: refused}


def forwarded_problem(request) -> tuple[str, dict] | None:
    """A request whose X-Forwarded-For holds fewer entries than the trusted proxies would
    append did not come through them: the client address cannot be known (allauth raises
    ImproperlyConfigured on it, a 500), so it is refused, naming the header."""
    trusted = getattr(settings, "SPECGATE_TRUSTED_PROXY_COUNT", 0)
    forwarded = request.headers.get("x-forwarded-for")
    if trusted <= 1 or not forwarded or len(forwarded.split(",")) >= trusted:
        return None
    return (
        f"X-Forwarded-For holds fewer addresses than the {trusted} trusted proxies append: "
        "the request did not come through them.",
        {"X-Forwarded-For": [f"Expected at least {trusted} addresses."]},
    )


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if problem := nul_problem(request) or forwarded_problem(request):
            message, details = problem
            return _error_page(request, 400, "invalid", message, "400.html", details=details)
        return self.get_response(request)
