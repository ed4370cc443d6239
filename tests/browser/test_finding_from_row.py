"""A finding raised from the item's own row: the form opens with the item chosen and shown by
its text; an error keeps what was typed and is shown at its field, in view."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import item_row

pytestmark = pytest.mark.django_db(transaction=True)


def test_raise_a_finding_from_an_item_row(world, live_server, browser, sign_in):
    item = world.items()["item-1"]
    page = sign_in(browser.new_context(viewport={"width": 1280, "height": 720}).new_page(),
                   world.reviewer)  # fmt: skip
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    item_row(page, item).get_by_role("link", name="Raise finding").click()
    form = page.locator("#raise-finding")
    expect(page.locator("h2#raise-finding-title")).to_contain_text(item.text)
    expect(page.get_by_label("Checklist item (optional)")).to_have_value(str(item.pk))

    # An error keeps what was typed and shows at its field, where the page is.
    page.select_option("#id_severity", "important")
    page.fill("#id_impact", "Clients retry forever.")
    page.locator("#id_title").evaluate("el => el.removeAttribute('required')")
    form.get_by_role("button", name="Raise finding").click()
    error = page.locator("#id_title_error")
    expect(error).to_contain_text("required")
    expect(error).to_be_in_viewport()
    expect(page.locator("#id_impact")).to_have_value("Clients retry forever.")
    expect(page.locator("#id_severity")).to_have_value("important")
    expect(page.get_by_label("Checklist item (optional)")).to_have_value(str(item.pk))

    page.fill("#id_title", "Retries are unbounded")
    page.get_by_role("button", name="Raise finding").click()
    finding = world.review.findings.get()
    assert (finding.item_id, finding.impact) == (item.pk, "Clients retry forever.")
    expect(page.locator(f"#finding-{finding.pk}")).to_contain_text("Retries are unbounded")
