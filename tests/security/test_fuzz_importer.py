"""Bad input: the Markdown importer on random and hostile documents (only ``ImportFailed`` or a
valid tree, never another exception), and stored script in every user-written field rendered
escaped on every page, in the Markdown report and (formula-protected) in the CSV."""

import csv
import io
import logging
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from checklists.importer import ImportFailed, parse_document
from checklists.models import Severity
from checklists.parsed import ParsedChecklist
from reviews.models import Verdict
from reviews.services import (
    finding_raise,
    response_save,
    review_submit,
    signoff_create,
    spec_create,
)
from tests.reviews.factories import make_version, make_world

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis folder in the project
    derandomize=True,  # the same examples on every run: a CI failure reproduces locally
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEVERITIES = set(Severity.values)


class _Crashes(logging.Handler):
    """Counts the importer's "a bug turned into ImportFailed" log lines."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(scope="module")
def crashes():
    handler = _Crashes()
    logger = logging.getLogger("checklists.importer")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def check_outcome(data, crashes) -> None:
    """Parse ``data``: either a refusal naming the document, or a well-formed tree."""
    before = len(crashes)
    try:
        parsed = parse_document(data, source_name="fuzz.md")
    except ImportFailed as exc:
        assert exc.message.startswith("fuzz.md"), exc.message
        assert exc.details["file"] == "fuzz.md"
        assert len(crashes) == before, f"importer crashed: {crashes[-1].exc_info}"
        return
    assert isinstance(parsed, ParsedChecklist)
    assert parsed.title.strip() and "\x00" not in parsed.title
    assert re.fullmatch(r"[0-9a-f]{64}", parsed.content_hash)
    items = parsed.all_items()
    assert items, "a tree without items must have been refused"
    for section in parsed.sections:
        assert section.title.strip()
        for group in section.groups:
            assert not group.groups, "only one level of nesting"
    for item in items:
        assert item.text.strip() and "\x00" not in item.text
        assert item.severity in SEVERITIES
        assert isinstance(item.is_gate, bool) and isinstance(item.optional, bool)
        assert item.line >= 1


# --- building blocks of hostile documents --------------------------------------------------

HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",
    "\ufeff",
    "‚úÖ",
    "‚ñ°",
    "□ ☐",
    "`",
    "|",
    "**",
    "=cmd|' /C calc'!A0",
    "\r",
    "\t",
    "x" * 20_000,
]
words = st.one_of(
    st.sampled_from(HOSTILE_TEXT), st.text(min_size=0, max_size=40), st.sampled_from(["a", "b"])
)
line_text = st.lists(words, min_size=0, max_size=4).map(" ".join)


@st.composite
def lines(draw):
    text = draw(line_text)
    depth = draw(st.integers(0, 60))
    kind = draw(
        st.sampled_from(
            [
                "heading",
                "bullet",
                "box",
                "table",
                "label",
                "fence",
                "plain",
                "front",
                "deep-heading",
            ]
        )
    )
    if kind == "heading":
        return "#" * draw(st.integers(1, 8)) + " " + text
    if kind == "deep-heading":
        return "#" * depth + text
    if kind == "bullet":
        return "  " * depth + draw(st.sampled_from(["- ", "* ", "+ ", "1. "])) + text
    if kind == "box":
        return "  " * (depth % 5) + draw(st.sampled_from(["- [ ] ", "- [x] ", "□ ", "☐ "])) + text
    if kind == "table":
        cells = draw(st.lists(line_text, min_size=1, max_size=6))
        return "| " + " | ".join(cells) + " |"
    if kind == "label":
        return f"**{text}**:"
    if kind == "fence":
        return draw(st.sampled_from(["```", "~~~", "```markdown"]))
    if kind == "front":
        return draw(
            st.sampled_from(
                [
                    "---",
                    "title: [unclosed",
                    "description: !!python/object/apply:os.system ['true']",
                    "title: &a [*a, *a]",
                    "title: " + text,
                    ": :",
                    "...",
                ]
            )
        )
    return text


documents = st.lists(lines(), min_size=0, max_size=60).map("\n".join)


@FUZZ
@given(document=documents)
def test_hostile_markdown_is_refused_or_parsed(document, crashes):
    check_outcome(document, crashes)


@FUZZ
@given(document=st.text(max_size=3000))
def test_random_text_is_refused_or_parsed(document, crashes):
    check_outcome(document, crashes)


@settings(FUZZ, max_examples=80)
@given(data=st.binary(max_size=3000))
def test_random_bytes_are_refused_or_parsed(data, crashes):
    check_outcome(data, crashes)


@pytest.mark.parametrize(
    "document",
    [
        "",
        "\x00" * 100,
        b"\xff\xfe\x00\x00binary",
        "- item\n" * 1 + "x" * (2 * 1024 * 1024 + 1),
        "---\ntitle: x\n" + "- never closed front matter\n" * 5,
        "\n".join("  " * depth + "- deep" for depth in range(2000)),
        "\n".join("#" * (depth % 200 + 1) + " h" for depth in range(2000)) + "\n- item",
        "```\n- not an item\n",
        "# Only a heading\n",
        "---\ndescription: !!python/object/apply:os.system ['touch /tmp/specgate-pwned']\n---\n"
        "- item",
    ],
    ids=[
        "empty",
        "nul",
        "binary",
        "over-2MB",
        "open-front-matter",
        "deep-bullets",
        "deep-headings",
        "open-fence",
        "no-items",
        "yaml-object",
    ],
)
def test_known_hostile_documents(document, crashes):
    check_outcome(document, crashes)
    assert not Path("/tmp/specgate-pwned").exists()


# --- stored script --------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","x")'
LIVE_TAGS = ("<script>alert", "<img src=x", "onerror=alert(1)>")


@pytest.fixture
def stored(db):
    """A review where every field people type carries script (and a spreadsheet formula)."""
    version = make_version(
        slug="xss-tpl",
        items=[
            (f"{SCRIPT} gate item", "must", True, False),
            (f"{IMG} second item", "must", False, False),
            (f"{FORMULA}", "should", False, True),
        ],
    )
    world = make_world(version=version)
    world.project.name = f"Project {IMG}"
    world.project.save(update_fields=["name"])
    world.spec.title = f"Spec {SCRIPT}"
    world.spec.description = f"Description {IMG}"
    world.spec.save(update_fields=["title", "description"])
    spec_create(
        actor=world.author,
        project=world.project,
        title=f"Second {SCRIPT}",
        link="https://docs.example.com/x",
        description=IMG,
        revision_label="r1",
    )
    review_submit(actor=world.author, review=world.review)
    items = {item.position: item for item in version.items.all()}
    response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=items[0].pk,
        verdict=Verdict.FAIL,
        note=f"Note {SCRIPT} {IMG}",
    )
    response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=items[2].pk,
        verdict=Verdict.NA,
        note=FORMULA,
    )
    finding_raise(
        actor=world.reviewer,
        review=world.review,
        severity="critical",
        title=f"Finding {SCRIPT}",
        location=IMG,
        impact=SCRIPT,
        recommendation=IMG,
        verification=SCRIPT,
        item_id=items[1].pk,
    )
    signoff_create(actor=world.reviewer2, review=world.review, comment=f"Signed {SCRIPT}")
    return world


def _pages(world):
    review, spec = world.review.pk, world.spec.pk
    return {
        "review": f"/reviews/{review}/",
        "report": f"/reviews/{review}/report/",
        "spec": f"/specs/{spec}/",
        "project": f"/projects/{world.project.slug}/",
        "dashboard": "/",
        "projects": "/projects/",
        "checklist version": f"/checklists/{world.version.template.slug}/v1/",
        "checklist compare": f"/checklists/{world.version.template.slug}/compare/",
        "insights": "/insights/",
    }


def test_stored_script_is_escaped_on_every_page(stored, client):
    client.force_login(stored.lead)
    for name, url in _pages(stored).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        body = response.content.decode()
        for tag in LIVE_TAGS:
            assert tag not in body, f"{name} renders {tag!r} unescaped"
        # Compare (one version: nothing to compare) and insights (keys only) show no such text.
        if name not in ("checklist compare", "insights"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body or "&lt;img src=x" in body, (
                f"{name} does not show the stored text at all"
            )


def test_stored_script_is_inert_in_the_markdown_report(stored, client):
    """The report escapes Markdown, not HTML: rendered (CommonMark), no tag is live and the
    text shows as typed."""
    client.force_login(stored.lead)
    for url in (
        f"/reviews/{stored.review.pk}/report.md",
        f"/api/v1/reviews/{stored.review.pk}/report/",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/markdown")
        text = response.content.decode()
        assert "&lt;script" not in text, "the Markdown report escapes HTML, not Markdown"
        rendered = MarkdownIt("commonmark").render(text)
        for tag in LIVE_TAGS:
            assert tag not in rendered, f"the Markdown report renders {tag!r}"
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_stored_formulas_are_neutralised_in_the_csv(stored, client):
    client.force_login(stored.lead)
    response = client.get(f"/reviews/{stored.review.pk}/report.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert FORMULA not in cells and f"'{FORMULA}" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells if cell)


# --- the import API on bodies of the wrong shape ---------------------------------------------


@pytest.mark.parametrize("body", [[], ["# T\n\n- item"], "# T\n\n- item", 3, None])
def test_import_api_refuses_a_json_body_that_is_not_an_object(db, body):
    """Found by the curators' schemathesis run: a JSON list body made the import answer 500
    (checklists/api/views.py read it as a dict)."""
    from rest_framework.test import APIClient

    from checklists.models import ChecklistTemplate
    from tests.accounts.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(curator=True))
    response = client.post("/api/v1/checklists/import/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"]
    assert not ChecklistTemplate.objects.exists()
