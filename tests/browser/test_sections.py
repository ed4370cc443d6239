"""A long review: sections beyond the first ones load when opened, and answering in them
moves the bars and the gate panel like anywhere else."""

import pytest
from playwright.sync_api import expect

from checklists.models import Item
from reviews.models import Response
from reviews.services import review_submit
from tests.reviews.factories import make_sectioned_version, make_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_world(transactional_db):
    world = make_world(version=make_sectioned_version("long-review", 3, 100))
    review_submit(actor=world.author, review=world.review)
    return world


def _sections(world):
    return list(world.version.sections.filter(parent=None).order_by("position"))


def test_opening_a_collapsed_section_loads_it_and_answers_update_the_bars(
    long_world, live_server, browser, sign_in
):
    first, second, third = _sections(long_world)
    page = sign_in(browser.new_context().new_page(), long_world.reviewer)
    page.goto(f"{live_server.url}/reviews/{long_world.review.pk}/")
    page.evaluate("window.__noReload = true")
    expect(page.locator(f"#section-{first.pk} li.item")).to_have_count(100)
    collapsed = page.locator(f"#section-{third.pk}")
    expect(collapsed.locator("li.item")).to_have_count(0)
    expect(collapsed.locator(f'[data-counts="section-{third.pk}"]')).to_contain_text("(0/100)")

    # Opening it fetches its rows.
    collapsed.locator("summary").click()
    expect(collapsed.locator("li.item")).to_have_count(100)
    item = Item.objects.filter(section=third).order_by("position")[4]
    row = page.locator(f"#item-{item.pk}")
    row.locator('input[value="pass"]').check()
    expect(page.locator("#save-status")).to_contain_text("Saved")
    expect(page.locator('[data-counts="overall"]')).to_contain_text("1 pass")
    expect(page.locator('[data-progress="overall"]')).to_have_attribute("value", "1")
    expect(page.locator(f'[data-counts="section-{third.pk}"]')).to_contain_text("1 pass")
    expect(page.locator(f'[data-progress="section-{third.pk}"]')).to_have_attribute("value", "1")
    assert Response.objects.get(review=long_world.review, item=item).verdict == "pass"

    # A fail without a note is refused inline there too, and the gate panel follows answers.
    gate_item = Item.objects.filter(section=third, is_gate=True).order_by("position").first()
    gate_row = page.locator(f"#item-{gate_item.pk}")
    gate_row.locator('input[value="fail"]').check()
    expect(gate_row.locator(".field-error")).to_contain_text("needs a note")
    gate_row.locator("textarea[name=note]").fill("Missing.")
    gate_row.get_by_role("button", name="Save").click()
    expect(page.locator('[data-counts="overall"]')).to_contain_text("1 fail")
    expect(page.locator("#gate")).to_contain_text("blocked")
    assert page.evaluate("window.__noReload") is True

    # Keyboard: j past the last row of a section loads the next collapsed one.
    second_section = page.locator(f"#section-{second.pk}")
    expect(second_section.locator("li.item")).to_have_count(0)
    last_of_first = Item.objects.filter(section=first).order_by("position").last()
    page.locator(f"#item-{last_of_first.pk}").focus()
    page.keyboard.press("j")
    first_of_second = Item.objects.filter(section__parent=second).order_by("position").first()
    expect(page.locator(f"#item-{first_of_second.pk}")).to_be_focused()
    expect(second_section.locator("li.item")).to_have_count(100)
    page.keyboard.press("p")
    expect(page.locator(f'[data-counts="section-{second.pk}"]')).to_contain_text("1 pass")
    expect(page.locator('[data-counts="overall"]')).to_contain_text("2 pass")


def test_collapsed_sections_open_without_javascript(long_world, live_server, browser, sign_in):
    third = _sections(long_world)[2]
    context = browser.new_context(java_script_enabled=False)
    page = sign_in(context.new_page(), long_world.reviewer)
    page.goto(f"{live_server.url}/reviews/{long_world.review.pk}/")
    section = page.locator(f"#section-{third.pk}")
    section.locator("summary").click()
    section.get_by_role("link", name="Show the 100 items of this section").click()
    expect(page.locator(f"#section-{third.pk} li.item")).to_have_count(100)
    item = Item.objects.filter(section=third).order_by("position").first()
    row = page.locator(f"#item-{item.pk}")
    row.locator('input[value="pass"]').check()
    row.get_by_role("button", name="Save").click()
    expect(page.locator('[data-counts="overall"]')).to_contain_text("1 pass")
    assert Response.objects.get(review=long_world.review, item=item).verdict == "pass"
