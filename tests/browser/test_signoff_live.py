"""A sign-off never goes stale silently: an answer saved on the open page (with JavaScript)
updates the actions panel and the sign-off list at once, as it does the gate panel."""

import pytest
from playwright.sync_api import expect

from reviews.services import response_save, signoff_create
from tests.browser.helpers import item_row

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_change_on_the_open_page_makes_the_sign_off_stale_everywhere_it_shows(
    world, live_server, browser, sign_in
):
    items = world.items()
    for item in items.values():
        response_save(actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass")
    signoff_create(actor=world.reviewer, review=world.review)
    page = sign_in(browser.new_context().new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    actions, signoffs = page.locator("#actions"), page.locator("#signoffs")
    expect(actions).to_contain_text("You have already signed off the current content")
    expect(signoffs.locator("li.stale")).to_have_count(0)

    # "Metrics are named" is optional: N/A needs no note.
    item_row(page, items["item-2"]).locator('input[value="na"]').check()
    expect(page.locator("#save-status")).to_contain_text("Saved")

    expect(actions).not_to_contain_text("already signed off")
    expect(actions.locator('button[data-action="signoff"]')).to_be_enabled()
    stale = signoffs.locator("li.stale")
    expect(stale).to_have_count(1)
    expect(stale).to_contain_text("stale")
    expect(stale).to_contain_text("changed")  # the change that made it stale
    expect(page.locator("#gate")).to_contain_text("blocked")
    # What the page shows is what a reload shows.
    page.reload()
    expect(page.locator("#signoffs li.stale")).to_have_count(1)
    expect(page.locator("#actions")).not_to_contain_text("already signed off")
