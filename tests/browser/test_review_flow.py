"""A whole review as people do it in the browser, and a conflict between two reviewers."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from reviews.models import Response

pytestmark = pytest.mark.django_db(transaction=True)


def _row(page, item):
    return page.locator(f"#item-{item.pk}")


def _answer(page, item, verdict):
    _row(page, item).locator(f'input[name="verdict"][value="{verdict}"]').check()


def test_a_whole_review(world, live_server, browser, sign_in):
    items = world.items()
    url = f"{live_server.url}/reviews/{world.review.pk}/"

    reviewer = sign_in(browser.new_context().new_page(), world.reviewer)
    reviewer.goto(url)
    reviewer.evaluate("window.__noReload = true")
    overall = reviewer.locator('[data-counts="overall"]')
    expect(overall).to_contain_text("0 pass")

    # Answering saves at once; the progress bars move without a reload.
    _answer(reviewer, items["item-0"], "pass")
    expect(overall).to_contain_text("1 pass")
    expect(reviewer.locator('[data-progress="overall"]')).to_have_attribute("value", "1")
    expect(reviewer.locator("#save-status")).to_contain_text("Saved")
    section = world.version.sections.get()
    expect(reviewer.locator(f'[data-counts="section-{section.pk}"]')).to_contain_text("1 pass")
    expect(reviewer.locator(f'[data-progress="section-{section.pk}"]')).to_have_attribute(
        "value", "1"
    )

    # A fail without a note is refused inline, and the note gets the focus.
    _answer(reviewer, items["item-1"], "fail")
    row = _row(reviewer, items["item-1"])
    expect(row.locator(".field-error")).to_contain_text("needs a note")
    expect(row.locator("textarea[name=note]")).to_be_focused()
    assert Response.objects.get(review=world.review, item=items["item-1"]).verdict == "unanswered"
    row.locator("textarea[name=note]").fill("Errors for the refund endpoint are missing.")
    row.get_by_role("button", name="Save").click()
    expect(overall).to_contain_text("1 fail")
    expect(_row(reviewer, items["item-1"]).locator(".field-error")).to_be_empty()

    # Keyboard: j moves to the next item, n / p answer it.
    _row(reviewer, items["item-1"]).focus()
    reviewer.keyboard.press("j")
    expect(_row(reviewer, items["item-2"])).to_be_focused()
    reviewer.keyboard.press("n")  # optional item: N/A needs no note
    expect(overall).to_contain_text("1 N/A")
    _row(reviewer, items["item-3"]).focus()
    reviewer.keyboard.press("p")
    expect(overall).to_contain_text("2 pass")
    assert reviewer.evaluate("window.__noReload") is True
    reviewer.keyboard.press("/")
    expect(reviewer.locator("#search")).to_be_focused()
    verdicts = dict(
        Response.objects.filter(review=world.review).values_list("item__key", "verdict")
    )
    assert verdicts == {"item-0": "pass", "item-1": "fail", "item-2": "na", "item-3": "pass"}

    # The reviewer raises a critical finding.
    reviewer.locator("#raise-finding summary").click()
    reviewer.select_option("#id_severity", "critical")
    reviewer.fill("#id_title", "Refunds can be issued twice")
    reviewer.fill("#id_impact", "Money leaves twice.")
    reviewer.get_by_role("button", name="Raise finding").click()
    finding = world.review.findings.get()
    expect(reviewer.locator(f"#finding-{finding.pk}")).to_contain_text("Refunds can be issued")

    # The lead sees the gate blocked, with links to what blocks it, and approve disabled.
    lead = sign_in(browser.new_context().new_page(), world.lead)
    lead.goto(url)
    gate = lead.locator("#gate")
    expect(gate).to_contain_text("blocked")
    expect(gate.locator(f'a[href="#finding-{finding.pk}"]')).to_be_visible()
    expect(gate).to_contain_text("0 of 1 required reviewer sign-off")
    approve = lead.locator('button[data-action="approve"]')
    expect(approve).to_be_disabled()
    expect(lead.locator("#why-approve")).to_contain_text("No blocking finding is open")

    # The reviewer may raise a finding but not close it; the spec's author resolves it.
    reviewer.reload()
    expect(reviewer.locator(f"#finding-{finding.pk} form.resolve")).to_have_count(0)
    author = sign_in(browser.new_context().new_page(), world.author)
    author.goto(url)
    resolve = author.locator(f"#finding-{finding.pk} form.resolve")
    resolve.locator("textarea[name=note]").fill("Idempotency key added in r2.")
    resolve.get_by_role("button", name="Close finding").click()
    expect(author.locator(f"#finding-{finding.pk}")).to_contain_text("Resolved")
    # The reviewer signs off.
    reviewer.reload()
    reviewer.locator('button[data-action="signoff"]').click()
    expect(reviewer.locator("#signoffs")).to_contain_text(world.reviewer.label)

    # Now the lead may approve; the page becomes read-only.
    lead.reload()
    expect(lead.locator("#gate")).to_contain_text("ready")
    # What does not block is listed as warnings, which the lead confirms having seen.
    expect(lead.locator("#gate-warnings")).to_contain_text("not blocking")
    lead.get_by_label(re.compile(r"I have seen \d+ warnings?")).check()
    lead.locator('button[data-action="approve"]').click()
    # Approving needs a recent authentication: the lead signed in minutes ago, which counts, so
    # the password is not asked again.
    expect(lead.locator(".review-head .state")).to_have_text("Approved")
    expect(lead.locator(".notice")).to_contain_text("read-only")
    expect(_row(lead, items["item-0"]).locator('input[value="fail"]')).to_be_disabled()
    reviewer.reload()
    expect(reviewer.locator("form.answer button.save")).to_have_count(0)

    # The report downloads as Markdown and CSV.
    lead.get_by_role("link", name="Report").click()
    expect(lead.locator("h1")).to_contain_text(world.spec.title)
    with lead.expect_download() as info:
        lead.get_by_role("link", name="Download Markdown").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "## Gate" in text and "### Critical issues (1)" in text
    assert "Refunds can be issued twice" in text
    with lead.expect_download() as info:
        lead.get_by_role("link", name="Download CSV").click()
    assert info.value.suggested_filename == f"review-{world.review.pk}.csv"


def test_two_reviewers_edit_the_same_item(world, live_server, browser, sign_in):
    item = world.items()["item-1"]
    url = f"{live_server.url}/reviews/{world.review.pk}/"
    first = sign_in(browser.new_context().new_page(), world.reviewer)
    second = sign_in(browser.new_context().new_page(), world.lead)
    first.goto(url)
    second.goto(url)

    row = _row(first, item)
    row.locator("textarea[name=note]").fill("Looks complete.")
    _answer(first, item, "pass")
    expect(first.locator("#save-status")).to_contain_text("Saved")

    # The second page still holds version 1: its save is refused and the conflict shown.
    other = _row(second, item)
    other.locator("textarea[name=note]").fill("The 409 case is not specified.")
    _answer(second, item, "fail")
    conflict = other.locator(".conflict")
    expect(conflict).to_contain_text("changed this meanwhile")
    expect(conflict).to_contain_text("Pass")
    expect(conflict).to_contain_text("Looks complete.")
    expect(other.locator("textarea[name=note]")).to_have_value("The 409 case is not specified.")
    saved = Response.objects.get(review=world.review, item=item)
    assert (saved.verdict, saved.note) == ("pass", "Looks complete.")

    # Overwriting is a deliberate choice, made with the newer version.
    conflict.get_by_role("button", name="Overwrite with mine").click()
    expect(second.locator("#save-status")).to_contain_text("Saved")
    expect(_row(second, item)).to_have_class(re.compile(r"\bv-fail\b"))
    saved.refresh_from_db()
    assert (saved.verdict, saved.note) == ("fail", "The 409 case is not specified.")


def test_keep_theirs(world, live_server, browser, sign_in):
    item = world.items()["item-0"]
    url = f"{live_server.url}/reviews/{world.review.pk}/"
    first = sign_in(browser.new_context().new_page(), world.reviewer)
    second = sign_in(browser.new_context().new_page(), world.lead)
    first.goto(url)
    second.goto(url)
    _answer(first, item, "pass")
    expect(first.locator("#save-status")).to_contain_text("Saved")
    _row(second, item).locator("textarea[name=note]").fill("Not written down.")
    _answer(second, item, "fail")
    conflict = _row(second, item).locator(".conflict")
    conflict.get_by_role("button", name="Keep theirs").click()
    expect(_row(second, item).locator('input[value="pass"]')).to_be_checked()
    assert Response.objects.get(review=world.review, item=item).verdict == "pass"


def test_quick_successive_answers_do_not_conflict_on_a_tablet(world, live_server, browser, sign_in):
    item = world.items()["item-1"]
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    page = sign_in(context.new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    expect(page.locator("#gate")).to_be_visible()
    row = _row(page, item)
    row.locator("textarea[name=note]").fill("Only the happy path is specified.")
    row.locator('input[value="pass"]').check()
    row.locator('input[value="fail"]').check()  # before the first save is back
    expect(page.locator('[data-counts="overall"]')).to_contain_text("1 fail")
    expect(_row(page, item).locator(".conflict")).to_have_count(0)
    saved = Response.objects.get(review=world.review, item=item)
    assert (saved.verdict, saved.version) == ("fail", 3)


def test_the_page_works_without_javascript(world, live_server, browser, sign_in):
    item = world.items()["item-1"]
    page = sign_in(browser.new_context(java_script_enabled=False).new_page(), world.reviewer)
    page.goto(f"{live_server.url}/reviews/{world.review.pk}/")
    row = _row(page, item)
    row.locator('input[value="fail"]').check()
    row.get_by_role("button", name="Save").click()
    expect(_row(page, item).locator(".field-error")).to_contain_text("needs a note")
    row = _row(page, item)
    row.locator("textarea[name=note]").fill("No error model.")
    row.get_by_role("button", name="Save").click()
    expect(page.locator('[data-counts="overall"]')).to_contain_text("1 fail")
    assert Response.objects.get(review=world.review, item=item).verdict == "fail"
