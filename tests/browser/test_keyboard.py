"""The review page's keys never act while the reader types in a field; Escape leaves the field
for the item it belongs to (or the current item), and the keys work from there again."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import item_row, saved_answer

pytestmark = pytest.mark.django_db(transaction=True)


def test_keys_typed_in_a_note_stay_text_and_escape_returns_to_the_item(
    world, live_server, browser, sign_in
):
    items = world.items()
    needs_note, after = items["item-1"], items["item-2"]  # N/A on item-1 needs a note
    page = sign_in(browser.new_context().new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    row = item_row(page, needs_note)
    note = row.locator("textarea[name=note]")

    # The sequence from the issue: n, then j p j p.
    row.focus()
    page.keyboard.press("n")
    expect(note).to_be_focused()
    expect(row.locator(".field-error")).to_contain_text("needs a note")
    for key in "jpjp":
        page.keyboard.press(key)
    expect(note).to_have_value("jpjp")  # typed, not acted on
    expect(note).to_be_focused()
    expect(row.locator('input[value="na"]')).to_be_checked()

    # Escape leaves the note for its item, which stays the current one; the note is saved.
    page.keyboard.press("Escape")
    expect(row).to_be_focused()
    expect(row.locator(".note-state")).to_have_text("Saved")
    assert saved_answer(world, needs_note) == ("na", "jpjp")
    page.keyboard.press("j")
    expect(item_row(page, after)).to_be_focused()
    assert saved_answer(world, after) == ("unanswered", "")

    # Any field: the search box ("/"), the filter (a select) and an editable region; Escape
    # returns to the item.
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator("#search")).to_have_value("j")
    page.keyboard.press("Escape")
    expect(item_row(page, after)).to_be_focused()
    page.locator("#filter").focus()
    page.keyboard.press("j")
    expect(page.locator("#filter")).to_be_focused()
    page.keyboard.press("Escape")
    expect(item_row(page, after)).to_be_focused()
    page.evaluate(
        """() => {
          const box = document.createElement("div");
          box.id = "editable";
          box.contentEditable = "true";
          document.querySelector("#findings").append(box);
          box.focus();
        }"""
    )
    page.keyboard.press("p")
    expect(page.locator("#editable")).to_have_text("p")
    page.keyboard.press("Escape")
    expect(item_row(page, after)).to_be_focused()
    page.keyboard.press("p")
    expect(page.locator('[data-counts="overall"]')).to_contain_text("1 pass")
    assert saved_answer(world, after) == ("pass", "")
