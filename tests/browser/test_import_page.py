"""A curator imports a checklist in the browser: from the library to Import, a refused file,
the preview, import as a draft, publish, and the checklist is in the library. On a phone-sized
window without JavaScript (plain forms) and on a desktop with it."""

import pytest
from playwright.sync_api import expect

from audit.models import Event
from checklists.models import ChecklistTemplate, TemplateVersion
from tests.accounts.factories import UserFactory
from tests.checklists.test_import_page import DOC

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"viewport": {"width": 390, "height": 844}, "java_script_enabled": False}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def fits(page) -> None:
    """Nothing sticks out sideways: the page scrolls only down."""
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("context_args", [PHONE, DESKTOP], ids=["phone-no-js", "desktop"])
def test_a_curator_imports_and_publishes_a_checklist(
    live_server, browser, sign_in, tmp_path, context_args
):
    curator = UserFactory(curator=True, email="curator@example.com")
    document = tmp_path / "queue.md"
    document.write_bytes(DOC)
    broken = tmp_path / "broken.md"
    broken.write_bytes(b"# Broken\n\n- caf\xe9\n")
    page = sign_in(browser.new_context(**context_args).new_page(), curator)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Checklists").click()
    page.get_by_role("link", name="Import a checklist").click()
    expect(page).to_have_url(f"{live_server.url}/checklists/import/")
    fits(page)

    # A file that is not UTF-8 is refused at the field, naming the file and the line.
    page.set_input_files("#id_file", str(broken))
    page.fill("#id_slug", "queue-review")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#id_file_error")).to_contain_text("broken.md, line 3: the file is not")
    expect(page.locator("#id_slug")).to_have_value("queue-review")
    assert not ChecklistTemplate.objects.exists()

    # The preview shows the structure; nothing is written yet.
    page.set_input_files("#id_file", str(document))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: Queue consumer review")
    expect(page.locator("#plan")).to_contain_text("Creates the checklist 'queue-review'")
    expect(page.locator("#plan")).to_contain_text("4 sections, 1 group, 6 items")
    expect(page.get_by_text("Is there a runbook for a stuck partition?")).to_be_visible()
    expect(page.locator(".cl-preview .badge-gate")).to_have_count(1)
    fits(page)
    assert not ChecklistTemplate.objects.exists() and not Event.objects.exists()

    # Import as a draft: the version's page, with its publish action.
    page.get_by_role("button", name="Import as draft").click()
    expect(page).to_have_url(f"{live_server.url}/checklists/queue-review/v1/")
    expect(page.locator(".messages")).to_contain_text("created draft v1 of 'queue-review'")
    expect(page.locator(".badge-draft").first).to_be_visible()
    fits(page)
    page.get_by_label("Changelog").fill("First version, from the queue team.")
    page.get_by_role("button", name="Publish v1").click()
    expect(page.locator(".messages")).to_contain_text("Published v1 of 'queue-review'.")
    version = TemplateVersion.objects.get()
    assert (version.status, version.changelog) == (
        "published",
        "First version, from the queue team.",
    )
    verbs = list(Event.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["checklist.imported", "checklist.published"]

    # The checklist is in the library for everyone.
    page.get_by_role("link", name="Checklist library").click()
    row = page.locator("table.cl-library tbody tr", has_text="Queue consumer review")
    expect(row).to_contain_text("v1")
    expect(row.get_by_role("link", name="Queue consumer review")).to_have_attribute(
        "href", "/checklists/queue-review/v1/"
    )
    fits(page)
