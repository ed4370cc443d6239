"""Notes on the review page are never lost silently: a note saves when its field is left and
after a pause in typing, an unsaved note is marked, leaving the page with one asks, and a note
saved over someone else's newer answer is a conflict, never an overwrite."""

import pytest
from playwright.sync_api import expect

from reviews.services import response_save, review_submit
from tests.browser.helpers import item_row, saved_answer
from tests.reviews.factories import make_big_version, make_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_note_typed_after_the_verdict_survives_answering_the_next_item_and_a_reload(
    world, live_server, browser, sign_in
):
    items = world.items()
    page = sign_in(browser.new_context().new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    first = item_row(page, items["item-0"])
    first.locator('input[value="pass"]').check()
    expect(page.locator("#save-status")).to_contain_text("Saved")

    first.locator("textarea[name=note]").click()
    page.keyboard.type("Checked against the OpenAPI file.")
    item_row(page, items["item-2"]).locator('input[value="pass"]').check()  # the next item
    expect(page.locator('[data-counts="overall"]')).to_contain_text("2 pass")
    expect(item_row(page, items["item-0"]).locator(".note-state")).to_have_text("Saved")

    page.reload()
    expect(item_row(page, items["item-0"]).locator("textarea[name=note]")).to_have_value(
        "Checked against the OpenAPI file."
    )
    assert saved_answer(world, items["item-0"]) == ("pass", "Checked against the OpenAPI file.")


def test_an_unsaved_note_is_marked_saves_after_a_pause_and_leaving_with_one_asks(
    world, live_server, browser, sign_in
):
    item = world.items()["item-1"]
    page = sign_in(browser.new_context().new_page(), world.reviewer)
    page.clock.install()  # the pause in typing is the page's timer: the test moves its clock
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)
    row = item_row(page, item)
    note = row.locator("textarea[name=note]")
    state = row.locator(".note-state")

    # Typing on an unanswered item: marked at once, saved after a pause, the field kept.
    note.click()
    page.keyboard.type("The 409 case")
    expect(state).to_have_text("Unsaved")
    expect(state).to_have_attribute("aria-live", "polite")
    page.clock.run_for(1_200)
    expect(state).to_have_text("Saved")
    expect(note).to_be_focused()
    assert saved_answer(world, item) == ("unanswered", "The 409 case")
    page.keyboard.type(" is not specified.")
    expect(note).to_have_value("The 409 case is not specified.")

    # The server cannot be reached: the note stays marked, and leaving the page asks.
    page.route("**/items/**", lambda route: route.abort())
    page.clock.run_for(1_200)
    expect(state).to_contain_text("Not saved")
    assert saved_answer(world, item) == ("unanswered", "The 409 case")
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()  # the reader stays
    expect(note).to_have_value("The 409 case is not specified.")


def test_a_note_saved_over_a_newer_answer_is_a_conflict_not_an_overwrite(
    world, live_server, browser, sign_in
):
    item = world.items()["item-0"]
    page = sign_in(browser.new_context().new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    response_save(  # someone else answers after the page was loaded
        actor=world.lead, review=world.review, item_id=item.pk, verdict="pass", note="Fine."
    )
    row = item_row(page, item)
    row.locator("textarea[name=note]").click()
    page.keyboard.type("Not written down.")
    page.keyboard.press("Escape")  # leaves the note: it saves, and the save is refused
    conflict = row.locator(".conflict")
    expect(conflict).to_contain_text("changed this meanwhile")
    expect(row.locator(".note-state")).to_contain_text("Not saved")
    # Editing on does not save over theirs behind the reader's back.
    row.locator("textarea[name=note]").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" At all.")
    page.keyboard.press("Escape")
    expect(row.locator(".note-state")).to_contain_text("Not saved")
    assert saved_answer(world, item) == ("pass", "Fine.")
    conflict.get_by_role("button", name="Overwrite with mine").click()
    expect(row.locator(".note-state")).to_have_text("Saved")
    assert saved_answer(world, item) == ("pass", "Not written down. At all.")


def test_without_javascript_a_note_saves_with_its_verdict_and_alone(
    world, live_server, browser, sign_in
):
    items = world.items()
    page = sign_in(browser.new_context(java_script_enabled=False).new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    row = item_row(page, items["item-0"])
    row.locator('input[value="pass"]').check()
    row.locator("textarea[name=note]").fill("Contract in the repo.")
    row.get_by_role("button", name="Save").click()
    expect(page.locator('[data-counts="overall"]')).to_contain_text("1 pass")
    # A note on an item not answered yet is kept too (the item stays unanswered).
    row = item_row(page, items["item-1"])
    row.locator("textarea[name=note]").fill("Asked the author about 409s.")
    row.get_by_role("button", name="Save").click()
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    expect(item_row(page, items["item-0"]).locator("textarea[name=note]")).to_have_value(
        "Contract in the repo."
    )
    expect(item_row(page, items["item-1"]).locator("textarea[name=note]")).to_have_value(
        "Asked the author about 409s."
    )
    assert saved_answer(world, items["item-0"]) == ("pass", "Contract in the repo.")
    assert saved_answer(world, items["item-1"]) == ("unanswered", "Asked the author about 409s.")


def test_without_javascript_an_error_returns_to_its_item(live_server, browser, sign_in):
    world = make_world(version=make_big_version("far-down", 60))
    review_submit(actor=world.author, review=world.review)
    items = world.items()
    page = sign_in(browser.new_context(java_script_enabled=False).new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")

    # A fail without a note on item 40: the page comes back at item 40, the error and the
    # choice there.
    row = item_row(page, items["item-40"])
    row.locator('input[value="fail"]').check()
    row.get_by_role("button", name="Save").click()
    row = item_row(page, items["item-40"])
    expect(row.locator(".field-error")).to_contain_text("needs a note")
    expect(row).to_be_in_viewport()
    expect(row.locator('input[value="fail"]')).to_be_checked()
    assert page.evaluate("window.scrollY") > 0

    # A conflict on item 50 too.
    response_save(
        actor=world.lead, review=world.review, item_id=items["item-50"].pk, verdict="pass"
    )
    row = item_row(page, items["item-50"])
    row.locator("textarea[name=note]").fill("Only for admins.")
    row.locator('input[value="na"]').check()
    row.get_by_role("button", name="Save").click()
    row = item_row(page, items["item-50"])
    expect(row.locator(".conflict")).to_contain_text("changed this meanwhile")
    expect(row).to_be_in_viewport()
    expect(row.locator("textarea[name=note]")).to_have_value("Only for admins.")
