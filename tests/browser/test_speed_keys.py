"""Speed tools in Chromium: "o" jumps to the next open item (loading a collapsed section that
has one, skipping those that do not), and a section's remaining items are marked N/A at once."""

import pytest
from django.db.models import F, Q
from playwright.sync_api import expect

from checklists.models import Item
from reviews.models import Response
from reviews.services import review_submit
from tests.browser.helpers import item_row, saved_answer
from tests.reviews.factories import make_sectioned_version, make_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_world(transactional_db):
    """Three sections of 100 items: the first all answered but its item 50, the second all
    answered, the third answered up to its item 10."""
    world = make_world(version=make_sectioned_version("speed-keys", 3, 100))
    review_submit(actor=world.author, review=world.review)
    done = (
        Q(item__key__startswith="s0-") & ~Q(item__key="s0-i50")
        | Q(item__key__startswith="s1-")
        | Q(item__key__in=[f"s2-i{i}" for i in range(10)])
    )
    Response.objects.filter(done, review=world.review).update(
        verdict="pass", answered_by=world.reviewer, version=F("version") + 1
    )
    return world


def test_o_goes_to_the_next_open_item_and_a_section_is_marked_na_at_once(
    long_world, live_server, browser, sign_in
):
    world = long_world
    items = {i.key: i for i in Item.objects.filter(version=world.version)}
    sections = list(world.version.sections.filter(parent=None).order_by("position"))
    page = sign_in(browser.new_context().new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    expect(page.locator(".kbd-help")).to_contain_text("next open item")
    third = page.locator(f"#section-{sections[2].pk}")
    expect(third.locator("li.item")).to_have_count(0)  # collapsed, not loaded

    # From the top: the one open item of the first section.
    page.keyboard.press("o")
    expect(item_row(page, items["s0-i50"])).to_be_focused()
    page.keyboard.press("p")
    expect(page.locator("#save-status")).to_contain_text("Saved")
    assert saved_answer(world, items["s0-i50"])[0] == "pass"

    # Next: past the fully answered second section (not even loaded) into the third.
    page.keyboard.press("o")
    expect(item_row(page, items["s2-i10"])).to_be_focused()
    expect(page.locator(f"#section-{sections[1].pk} li.item")).to_have_count(0)
    page.keyboard.press("o")
    expect(item_row(page, items["s2-i11"])).to_be_focused()

    # "/" goes to the search box; Escape back to the item.
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.press("Escape")
    expect(item_row(page, items["s2-i11"])).to_be_focused()

    # The rest of the third section N/A, with one note and the count confirmed.
    form = third.locator("form[data-section-na]")
    expect(form).to_contain_text("Mark the 90 unanswered items N/A")
    form.locator("input[name=note]").fill("Not in scope for this spec.")
    form.get_by_role("button", name="Mark 90 N/A").click()  # the box is not ticked yet
    assert saved_answer(world, items["s2-i99"])[0] == "unanswered"
    form.get_by_role("checkbox").check()
    form.get_by_role("button", name="Mark 90 N/A").click()
    expect(page.get_by_text("Marked 90 items N/A.")).to_be_visible()
    assert saved_answer(world, items["s2-i99"]) == ("na", "Not in scope for this spec.")
    assert saved_answer(world, items["s2-i9"])[0] == "pass"
    assert not Response.objects.filter(review=world.review, verdict="unanswered").exists()

    # Nothing is open any more: "o" says so.
    page.keyboard.press("o")
    expect(page.locator("#save-status")).to_contain_text("No open item left")
