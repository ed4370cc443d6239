"""Screenshots for the README, on demand: SPECGATE_SCREENSHOTS=1 pytest tests/browser -k shots.

Uses the quick start's demo data (the seed checklists when ../shared/seeds exists) with a few
answers and findings, and writes PNGs to docs/screenshots/.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

from reviews.demo import DEMO_PASSWORD, build_demo
from reviews.models import Review
from reviews.services import finding_raise, response_save

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("SPECGATE_SCREENSHOTS"), reason="set SPECGATE_SCREENSHOTS=1"
    ),
]

OUT = Path(settings.BASE_DIR) / "docs" / "screenshots"


def _demo_review():
    build_demo()
    review = Review.objects.select_related("spec").first()
    if review is None:
        pytest.skip("no published checklist to review")
    from accounts.models import User

    reviewer = User.objects.get(email="reviewer@example.com")
    responses = list(review.responses.select_related("item").order_by("item__position")[:14])
    for i, response in enumerate(responses):
        verdict, note = ("pass", "")
        if i % 5 == 3:
            verdict, note = "fail", "Not covered in the spec: error bodies are missing."
        elif i % 7 == 6:
            verdict, note = "na", "No public API in this service."
        response_save(
            actor=reviewer, review=review, item_id=response.item_id, verdict=verdict, note=note
        )
    finding_raise(
        actor=reviewer,
        review=review,
        severity="critical",
        title="Refunds can be issued twice",
        location="§4.2 Refund flow",
        impact="A retried request refunds the customer twice.",
        recommendation="Require an Idempotency-Key header on POST /refunds.",
        verification="Replay the same refund request; expect one refund.",
    )
    finding_raise(
        actor=reviewer,
        review=review,
        severity="strength",
        title="Clear sequence diagrams",
    )
    return review


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
