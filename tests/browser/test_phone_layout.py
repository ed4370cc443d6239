"""On a phone (390×844) the API tokens page and the report fit the screen: nothing makes the
page scroll sideways (wide tables scroll inside their own box or wrap)."""

import pytest

from accounts.services import token_create
from reviews.services import response_save, review_submit
from tests.reviews.factories import make_version, make_world

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 390, "height": 844}}
KEYS = [
    "is-role-hierarchy-specified-b6d6d1",
    "are-error-responses-documented-for-every-endpoint-9f2c1a",
    "metrics-named-3a1b2c",
    "data-flow-diagram-77e0aa",
]


def _page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


@pytest.fixture
def phone_world(transactional_db):
    world = make_world(version=make_version(slug="phone-layout", keys=KEYS))
    review_submit(actor=world.author, review=world.review)
    for item, (verdict, note) in zip(
        world.version.items.order_by("position"),
        [
            ("pass", "Documented in docs/api/roles.md#hierarchy"),
            ("fail", "502 and 503 are missing: https://docs.example.com/api/errors/"
                     "refunds-and-chargebacks-v2#retry-after"),
            ("na", "No metrics in this service."),
            ("pass", ""),
        ],
        strict=True,
    ):  # fmt: skip
        response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict=verdict, note=note
        )
    return world


def test_the_tokens_page_fits_a_phone(phone_world, live_server, browser, sign_in):
    user = phone_world.reviewer
    token_create(actor=user, name="CI pipeline for the payments service")
    token_create(actor=user, name="Chat bot", read_only=True)
    page = sign_in(browser.new_context(**PHONE).new_page(), user)
    page.goto(f"{live_server.url}/tokens/")
    assert page.get_by_role("cell", name="CI pipeline for the payments service").is_visible()
    assert _page_width(page) <= 390


def test_the_report_fits_a_phone(phone_world, live_server, browser, sign_in):
    page = sign_in(browser.new_context(**PHONE).new_page(), phone_world.lead)
    page.goto(f"{live_server.url}/reviews/{phone_world.review.pk}/report/")
    note = page.get_by_text("No metrics in this service.")
    assert note.is_visible()
    assert _page_width(page) <= 390
    # The Note column is on the screen, not cut off at its edge.
    box = note.bounding_box()
    assert box["x"] + box["width"] <= 390
