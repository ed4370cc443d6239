"""Issue 16 defect 10: on a phone (390×844) the gate and the actions were ~31,000 px down, below
a thousand items. The gate's state is visible in the first viewport, stays in view while the
reader scrolls, and the actions are one tap away; the page does not scroll sideways."""

import re

import pytest
from playwright.sync_api import expect

from reviews.services import review_submit
from tests.reviews.factories import make_sectioned_version, make_world

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 390, "height": 844}}


@pytest.fixture
def big_world(transactional_db):
    world = make_world(version=make_sectioned_version("phone-summary", 8, 125))
    review_submit(actor=world.author, review=world.review)
    return world


def _in_view(box) -> bool:
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844


def test_the_gate_and_actions_are_at_hand_on_a_phone(big_world, live_server, browser, sign_in):
    page = sign_in(browser.new_context(**PHONE).new_page(), big_world.lead)
    page.goto(f"{live_server.url}/reviews/{big_world.review.pk}/")
    # The gate and actions panels themselves are far below the first screen...
    assert page.locator("#actions").bounding_box()["y"] > 5 * 844
    # ...but the gate's state is on it.
    bar = page.get_by_role("navigation", name="Gate and actions")
    assert bar.is_visible() and _in_view(bar.bounding_box())
    assert "Gate: blocked" in bar.inner_text()
    # It stays in view while the reader works down the items.
    page.evaluate("window.scrollTo(0, 6000)")
    assert page.evaluate("window.scrollY") > 3000
    assert _in_view(bar.bounding_box())
    # One tap reaches the actions (the approve button, with why it is refused).
    bar.get_by_role("link", name="Actions").click()
    expect(page).to_have_url(re.compile("#actions$"))
    approve = page.locator("#actions [data-action=approve]")
    page.wait_for_timeout(200)
    assert _in_view(approve.bounding_box())
    # The bar does not hide the panel's heading.
    heading = page.locator("#actions-title").bounding_box()
    assert heading["y"] >= bar.bounding_box()["y"] + bar.bounding_box()["height"]
    # And the gate panel is one tap away too.
    bar.get_by_role("link", name="Gate: blocked").click()
    expect(page).to_have_url(re.compile("#gate$"))
    page.wait_for_timeout(200)
    assert _in_view(page.locator("#gate-title").bounding_box())
    # Nothing makes the page scroll sideways.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390


@pytest.mark.parametrize(("width", "shown"), [(768, True), (1280, False)])
def test_the_bar_shows_where_the_panels_are_below_the_items(
    big_world, live_server, browser, sign_in, width, shown
):
    """A tablet has the side panels below the items too (one column); a wide screen keeps
    them beside the items, in view, and has no bar."""
    page = sign_in(
        browser.new_context(viewport={"width": width, "height": 900}).new_page(), big_world.lead
    )
    page.goto(f"{live_server.url}/reviews/{big_world.review.pk}/")
    assert page.get_by_role("navigation", name="Gate and actions").is_visible() is shown
    assert page.locator("#gate-title").is_visible()
