"""Pages have a favicon (our own, from the static files): the browser asks for nothing that
answers 404."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_log_no_404_for_a_favicon(world, live_server, browser, sign_in):
    page = browser.new_context().new_page()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    sign_in(page, world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    icon = page.evaluate("document.querySelector('link[rel=icon]')?.href")
    assert icon, "no favicon link"
    assert page.request.get(icon).status == 200
    fallback = page.request.get(f"{live_server.url}/favicon.ico")
    assert fallback.status == 200
    assert fallback.headers["content-type"].startswith("image/")
    page.wait_for_timeout(300)  # the browser's own favicon request
    assert missing == []
