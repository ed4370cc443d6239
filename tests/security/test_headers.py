"""Response headers on HTML pages and the API (CSP without inline script or eval, nosniff,
referrer policy, no framing), and the production settings: deploy check clean, cookies secure."""

import json

import pytest
from rest_framework.test import APIClient

from accounts.services import token_create
from tests.ops.test_settings import STRONG_KEY, run_manage
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": STRONG_KEY,
}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_safe_headers(response, where: str) -> None:
    csp = response.get("Content-Security-Policy")
    assert csp, f"{where}: no Content-Security-Policy"
    directives = csp_directives(csp)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src, f"{where}: CSP has no script-src or default-src"
    assert "'unsafe-inline'" not in script_src, where
    assert "'unsafe-eval'" not in script_src, where
    assert "*" not in script_src and "data:" not in script_src, where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("base-uri") == ["'self'"], where
    assert response.get("X-Content-Type-Options") == "nosniff", where
    assert response.get("Referrer-Policy") == "same-origin", where
    assert response.get("X-Frame-Options") == "DENY", where


@pytest.fixture
def world(db):
    return make_world()


def test_html_pages_send_the_security_headers(client, world):
    anonymous = {
        "sign-in": client.get("/accounts/login/"),
        "redirect to sign-in": client.get("/"),
        "password reset": client.get("/accounts/password/reset/"),
    }
    client.force_login(world.lead)
    signed_in = {
        "dashboard": client.get("/"),
        "review": client.get(f"/reviews/{world.review.pk}/"),
        "report": client.get(f"/reviews/{world.review.pk}/report/"),
        "report.md": client.get(f"/reviews/{world.review.pk}/report.md"),
        "tokens": client.get("/tokens/"),
        "not found": client.get("/reviews/999999/"),
        "checklists": client.get("/checklists/"),
    }
    for where, response in {**anonymous, **signed_in}.items():
        assert_safe_headers(response, where)
    assert signed_in["review"].status_code == 200
    # The page's only script is our own file, loaded with the per-response nonce.
    body = signed_in["review"].content.decode()
    assert "<script>" not in body and " on" + "click=" not in body


def test_api_answers_send_the_security_headers(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=world.lead, name='h').raw}")
    answers = {
        "read": client.get(f"/api/v1/reviews/{world.review.pk}/"),
        "error": client.get("/api/v1/reviews/999999/"),
        "unauthenticated": APIClient().get("/api/v1/me/"),
        "report": client.get(f"/api/v1/reviews/{world.review.pk}/report/"),
        "health": client.get("/healthz"),
        "docs": client.get("/api/docs/"),
        "docs script": client.get("/api/docs/?script="),
    }
    for where, response in answers.items():
        assert_safe_headers(response, where)
    assert answers["read"]["Content-Type"].startswith("application/json")
    # Swagger UI: our static files and a script file, nothing inline, no CDN.
    docs = answers["docs"].content.decode()
    assert "<style" not in docs and "<script>" not in docs and "cdn." not in docs
    assert 'src="/static/drf_spectacular_sidecar/swagger-ui-dist/' in docs
    assert answers["docs script"]["Content-Type"].startswith("application/javascript")


def test_production_passes_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


PRINT_SETTINGS = """
import json
from django.conf import settings
names = [
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
    "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def test_production_cookies_and_transport_are_secure():
    result = run_manage("shell", "-c", PRINT_SETTINGS, env_overrides=PRODUCTION)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"


# --- DRF's browsable API: a development aid, never served in production ----------------------

RENDERERS = (
    "from rest_framework.settings import api_settings; "
    "print(' '.join(r.__name__ for r in api_settings.DEFAULT_RENDERER_CLASSES))"
)


def test_the_browsable_api_is_refused_outside_debug(world):
    """The test settings are production's (DEBUG off): ``?format=api`` is not found and an
    HTML-only Accept is not acceptable; JSON still answers."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=world.lead, name='b').raw}")
    for url in ["/api/v1/reviews/?format=api", f"/api/v1/reviews/{world.review.pk}/?format=api"]:
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
        assert b"<html" not in response.content.lower()
    response = client.get("/api/v1/reviews/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406 and response.json()["error"]["code"] == "not_acceptable"
    assert client.get("/api/v1/reviews/?format=json").status_code == 200
    anonymous = APIClient().get("/api/v1/me/?format=api", HTTP_ACCEPT="text/html")
    assert b"<html" not in anonymous.content.lower()


@pytest.mark.parametrize(
    ("settings_module", "debug", "browsable"),
    [
        ("config.settings.production", None, False),
        ("config.settings.local", "false", False),
        ("config.settings.local", "true", True),
    ],
)
def test_only_debug_renders_the_browsable_api(settings_module, debug, browsable):
    env = {**PRODUCTION, "DJANGO_SETTINGS_MODULE": settings_module}
    if debug is not None:
        env["DJANGO_DEBUG"] = debug
    result = run_manage("shell", "-c", RENDERERS, env_overrides=env)
    assert result.returncode == 0, result.stderr
    renderers = result.stdout.strip().splitlines()[-1].split()
    assert renderers[0] == "JSONRenderer"
    assert ("BrowsableAPIRenderer" in renderers) is browsable
