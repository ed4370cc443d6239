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
