"""The import page explains the Markdown it reads, and offers an example document that the
importer reads as the help says: sections, groups, Must/Should/Could, gate items, "if
applicable", guidance and rationale."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

from checklists.importer import parse_document
from tests.checklists.test_import_page import IMPORT_URL

pytestmark = pytest.mark.django_db

EXAMPLE = "checklists/example-checklist.md"


@pytest.fixture
def import_page(client):
    from tests.accounts.factories import UserFactory

    client.force_login(UserFactory(curator=True))
    response = client.get(IMPORT_URL)
    assert response.status_code == 200
    return response.content.decode()


def test_the_import_page_says_how_to_mark_severity_gate_and_if_applicable(import_page):
    help_block = re.search(r'<section class="[^"]*cl-help.*?</section>', import_page, re.S)
    assert help_block, "no help block on the import page"
    text = help_block.group(0)
    for marker in ("(Must Fix)", "(Should Fix)", "(Consider)", "quality gate", "if applicable"):
        assert marker in text, marker


def test_the_import_page_links_an_example_document_to_download(import_page):
    assert f'href="{static(EXAMPLE)}" download="example-checklist.md"' in import_page
    assert finders.find(EXAMPLE), "the example is not among the static files"


def test_the_example_reads_as_the_help_says():
    with open(finders.find(EXAMPLE), "rb") as handle:
        parsed = parse_document(handle.read(), source_name="example-checklist.md")
    assert parsed.title == "Example API spec checklist"
    items = {}
    for section in parsed.sections:
        for item in section.items:
            items[item.text] = (section.title, item)
        for group in section.groups:
            for item in group.items:
                items[item.text] = (f"{section.title} › {group.title}", item)
    flags = {
        text: (item.severity, item.is_gate, item.optional) for text, (_, item) in items.items()
    }
    severities = {severity for severity, _, _ in flags.values()}
    assert severities == {"must", "should", "could"}
    gate = [text for text, (_, is_gate, _) in flags.items() if is_gate]
    assert gate and all(items[text][0].startswith("Quality gate") for text in gate)
    optional = [text for text, (_, _, is_optional) in flags.items() if is_optional]
    assert optional and all("if applicable" in text for text in optional)
    assert any("›" in where for where, _ in items.values()), "no group"
    assert any(item.guidance and item.rationale for _, item in items.values())
