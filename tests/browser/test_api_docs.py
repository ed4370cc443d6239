"""/api/docs/ in Chromium: Swagger UI loads from our own static files under our CSP (it was
a blank page: the CDN it came from is blocked by the policy) and lists the operations."""

import pytest
from playwright.sync_api import expect

from tests.security.test_headers import csp_directives

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_list_the_operations_under_our_csp(live_server, browser):
    page = browser.new_context().new_page()
    console, failed, outside = [], [], []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:"))
            else outside.append(request.url)
        ),
    )
    response = page.goto(f"{live_server.url}/api/docs/")
    assert response.status == 200
    policy = csp_directives(response.headers["content-security-policy"])
    assert "'unsafe-inline'" not in policy["script-src"] and policy["style-src"] == ["'self'"]

    expect(page.get_by_text("Specgate API").first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("/api/v1/reviews/", exact=True).first).to_be_visible()
    expect(page.locator(".opblock")).not_to_have_count(0)
    assert page.locator(".opblock").count() >= 40  # every operation of the schema
    page.get_by_text("/api/v1/reviews/{id}/gate/", exact=True).first.click()
    expect(page.get_by_text("Try it out").first).to_be_visible()

    violations = [line for line in console if "Content Security Policy" in line]
    assert not violations, violations
    assert not [line for line in console if line.startswith(("error", "pageerror"))], console
    assert not failed, failed
    assert not outside, f"fetched from outside our site: {outside}"
