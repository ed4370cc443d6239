"""Screenshots for the README, on demand: SPECGATE_SCREENSHOTS=1 pytest tests/browser -k shots.

Uses the quick start's demo data (its own checklists, answers and findings) and writes PNGs to
docs/screenshots/.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from reviews.demo import DEMO_PASSWORD, build_demo
from reviews.models import Review

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("SPECGATE_SCREENSHOTS"), reason="set SPECGATE_SCREENSHOTS=1"
    ),
]

OUT = Path(settings.BASE_DIR) / "docs" / "screenshots"


def _demo_review():
    """The demo's review in progress: two reviewers, partial answers, findings."""
    build_demo()
    return Review.objects.select_related("spec").get(spec__title="Payments API v2")


def test_shots(live_server, browser):
    review = _demo_review()
    OUT.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", "reviewer@example.com")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    page.screenshot(path=str(OUT / "dashboard.png"))
    page.goto(f"{live_server.url}/reviews/{review.pk}/")
    page.locator("li.item").nth(14).focus()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUT / "review.png"))
    page.goto(f"{live_server.url}/reviews/{review.pk}/report/")
    page.screenshot(path=str(OUT / "report.png"))
    page.close()

    # A phone: the gate's bar stays at the top while the reviewer works through the items.
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, live_server, "reviewer@example.com")
    phone.goto(f"{live_server.url}/reviews/{review.pk}/")
    phone.screenshot(path=str(OUT / "review-phone.png"))
    phone.close()

    # A curator imports a checklist in the browser: the preview, before anything is written.
    curator = browser.new_page(viewport={"width": 1280, "height": 860})
    _sign_in(curator, live_server, "curator@example.com")
    curator.goto(f"{live_server.url}/checklists/import/")
    example = Path(settings.BASE_DIR) / "static" / "checklists" / "example-checklist.md"
    curator.set_input_files("input[name=file]", str(example))
    curator.get_by_role("button", name="Preview").click()
    curator.wait_for_load_state()
    curator.screenshot(path=str(OUT / "import.png"))
    curator.close()


def _sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
