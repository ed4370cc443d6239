"""After an edit conflict, nothing overwrites the other reviewer's answer but the reader's own
choice of "Overwrite with mine": not the row's Save, not a verdict, not the note saving itself."""

import pytest
from playwright.sync_api import expect

from reviews.services import response_save
from tests.browser.helpers import item_row, saved_answer

pytestmark = pytest.mark.django_db(transaction=True)

THEIR_NOTE = "Retries are unbounded for 502."


def test_a_plain_save_after_a_conflict_does_not_overwrite_theirs(
    world, live_server, browser, sign_in
):
    item = world.items()["item-1"]
    page = sign_in(browser.new_context().new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    response_save(  # Reviewer 2 answers after the page was loaded
        actor=world.reviewer2, review=world.review, item_id=item.pk, verdict="fail",
        note=THEIR_NOTE,
    )  # fmt: skip
    row = item_row(page, item)
    row.locator("textarea[name=note]").fill("Specified in the errors table.")
    row.locator('input[name="verdict"][value="pass"]').check()
    conflict = row.locator(".conflict")
    expect(conflict).to_contain_text("changed this meanwhile")
    # Their note is quoted as it is: no full stop added after its own.
    expect(conflict).to_contain_text(f"“{THEIR_NOTE}”")
    assert f"{THEIR_NOTE}”." not in conflict.inner_text()

    # The row's own Save, a verdict and the note saving itself: none goes over theirs.
    row.get_by_role("button", name="Save", exact=True).click()
    expect(row.locator(".field-error")).to_contain_text("Overwrite with mine")
    row.locator('input[name="verdict"][value="na"]').check()
    row.locator("textarea[name=note]").fill("Specified in the errors table, really.")
    row.locator("textarea[name=note]").press("Tab")
    page.wait_for_timeout(1_500)  # longer than the note's pause
    expect(conflict).to_be_visible()
    state = row.locator(".note-state")
    expect(state).to_contain_text("Not saved")
    expect(state).not_to_contain_text("see above")
    assert saved_answer(world, item) == ("fail", THEIR_NOTE)

    # Only the reader's choice overwrites.
    conflict.get_by_role("button", name="Overwrite with mine").click()
    expect(page.locator("#save-status")).to_contain_text("Saved")
    assert saved_answer(world, item) == ("na", "Specified in the errors table, really.")
