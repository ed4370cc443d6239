"""A reviewer reads items by their text, hears them named by it, finds the key on demand, and
reads the timeline as sentences."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import item_row

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "every-endpoint-is-listed-with-its-method-path-and-157df4"


def test_items_are_named_by_their_text_and_the_timeline_reads_as_sentences(
    world, live_server, browser, sign_in
):
    item = world.items()["item-1"]
    item.key = KEY
    item.save(update_fields=["key"])
    world.reviewer.display_name = "Rita Reviewer"
    world.reviewer.save(update_fields=["display_name"])
    page = sign_in(browser.new_context(viewport={"width": 1280, "height": 720}).new_page(),
                   world.reviewer)  # fmt: skip
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    row = item_row(page, item)
    expect(row.locator(".item-text")).to_have_text(item.text)
    key = row.locator("details.item-key code")
    expect(key).to_be_hidden()  # on demand only
    row.locator("details.item-key summary").click()
    expect(key).to_have_text(KEY)

    verdicts = page.get_by_role("group", name=f"Verdict for {item.text}")
    verdicts.get_by_label("Pass").check()
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".answered")).to_contain_text("Rita Reviewer")
    page.reload()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Rita Reviewer answered “{item.text}”: Pass")
    expect(timeline).not_to_contain_text("response.answered")
    expect(timeline).not_to_contain_text(KEY)
