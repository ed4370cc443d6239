"""The Markdown report escapes Markdown, not HTML: whatever people typed (titles, notes,
findings, reasons, names) renders as the characters typed — no link, image, HTML or emphasis
arises from it — and ``>``, ``&`` and ``$`` read as typed. Checked with a CommonMark renderer
(markdown-it-py, with GitHub's strikethrough and tables)."""

import csv
import io

import pytest
from markdown_it import MarkdownIt

from checklists.models import Item, Section
from reviews.models import GateRule, Verdict
from reviews.report import render_csv, render_markdown
from reviews.services import (
    finding_raise,
    finding_resolve,
    override_grant,
    response_save,
    review_submit,
    spec_post_revision,
)
from tests.reviews.factories import make_version, make_world

pytestmark = pytest.mark.django_db

HOSTILE = [
    "[x](javascript:alert(1))",
    "![](http://evil.example/t.png)",
    "<javascript:alert(1)>",
    "<http://evil.example/auto>",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "refunds &gt; $1,000 & more > less &#60;b&#62;",
    "*emph* __strong__ `code` ~~strike~~ $x$ trailing ##",
    "[ref] [ref][] \\[ back\\slash",
]

RENDERER = MarkdownIt("commonmark").enable(["strikethrough", "table"])
LIVE = {"link_open", "image", "html_inline", "html_block", "s_open", "em_open"}


def typed(index: int, where: str) -> str:
    return f"{where}{index}: {HOSTILE[index % len(HOSTILE)]}"


def _text_lines(markdown: str) -> list[str]:
    """Each block's text as a reader sees it, and every live construct found."""
    lines = []
    for token in RENDERER.parse(markdown):
        if token.type != "inline":
            continue
        lines.append(
            "".join(
                child.content if child.type in ("text", "code_inline") else " "
                for child in token.children
                if child.type in ("text", "code_inline", "softbreak")
            )
        )
    return lines


def _live(markdown: str, allowed_links: set[str]) -> list[str]:
    found = []
    for token in RENDERER.parse(markdown):
        for child in token.children or []:
            if child.type == "link_open" and child.attrGet("href") in allowed_links:
                continue
            if child.type in LIVE or child.type == "strong_open" and "__" in child.markup:
                found.append(f"{child.type} {child.markup!r} in {token.content[:80]!r}")
        if token.type in LIVE:
            found.append(f"{token.type} {token.content[:80]!r}")
    return found


@pytest.fixture
def hostile_review():
    """A review whose every user-typed field carries Markdown and HTML."""
    version = make_version(
        slug="md-report",
        items=[(typed(i, "item"), "must", i == 0, False) for i in range(len(HOSTILE))],
        keys=["key-plain", "key`tick", "``double", *[f"k{i}" for i in range(3, len(HOSTILE))]],
    )
    version.template.title = typed(1, "template")
    version.template.save()
    main = Section.objects.get(version=version)
    main.title = typed(2, "section")
    main.save()
    group = Section.objects.create(version=version, parent=main, title=typed(3, "group"))
    Item.objects.filter(version=version, position__gte=5).update(section=group)
    world = make_world(version=version)
    world.project.name = typed(4, "project")
    world.project.save()
    world.spec.title = typed(5, "spec")
    world.spec.save()
    review = world.review
    spec_post_revision(actor=world.author, spec=world.spec, label=typed(6, "revision"))
    review_submit(actor=world.author, review=review)
    for index, response in enumerate(review.responses.order_by("item__position")):
        response_save(
            actor=world.reviewer,
            review=review,
            item_id=response.item_id,
            verdict=Verdict.FAIL if index % 2 else Verdict.PASS,
            note=typed(index, "note"),
        )
    for index in range(len(HOSTILE)):
        finding = finding_raise(
            actor=world.reviewer,
            review=review,
            severity=["critical", "important", "suggestion", "strength"][index % 4],
            title=typed(index, "title"),
            location=typed(index + 1, "location"),
            impact=typed(index + 2, "impact"),
            recommendation=typed(index + 3, "recommendation"),
            verification=typed(index + 4, "verification"),
            item_id=response.item_id,
        )
        if index % 3 == 0:
            finding_resolve(actor=world.author, finding=finding, note=typed(index, "resolution"))
    override_grant(
        actor=world.lead,
        review=review,
        rule=GateRule.GATE_ITEMS,
        justification=typed(7, "justification"),
    )
    return world


def test_no_link_image_or_html_arises_from_user_text(hostile_review):
    markdown = render_markdown(hostile_review.review)
    assert _live(markdown, allowed_links={hostile_review.spec.link}) == []


def test_user_text_renders_as_typed(hostile_review):
    lines = _text_lines(render_markdown(hostile_review.review))
    body = "\n".join(lines)
    expected = (
        [typed(i, "item") for i in range(len(HOSTILE))]
        + [typed(i, "note") for i in range(len(HOSTILE))]
        + [typed(i, "title") for i in range(len(HOSTILE))]
        + [typed(i + 1, "location") for i in range(len(HOSTILE))]
        + [typed(i + 4, "verification") for i in range(len(HOSTILE))]
        + [typed(i, "resolution") for i in range(0, len(HOSTILE), 3)]
        + [typed(n, w) for n, w in [(1, "template"), (2, "section"), (3, "group")]]
        + [typed(n, w) for n, w in [(4, "project"), (5, "spec"), (6, "revision")]]
        + [typed(7, "justification")]
    )
    missing = [text for text in expected if text not in body]
    assert missing == [], "\n".join(lines)
    assert "refunds &gt; $1,000 & more > less &#60;b&#62;" in body
    for key in ("key-plain", "key`tick", "``double"):
        assert key in body


def test_raw_markdown_is_not_html_escaped(hostile_review):
    """The file itself reads naturally: no HTML entities for what people typed."""
    markdown = render_markdown(hostile_review.review)
    assert "&lt;" not in markdown and "&gt; $" not in markdown.replace("\\&gt; \\$", "")
    assert "refunds \\&gt; \\$1,000 & more > less" in markdown


def test_a_link_that_is_not_http_is_text(db):
    world = make_world()
    world.spec.link = "javascript:alert(1)"
    world.spec.save()
    markdown = render_markdown(world.review)
    assert _live(markdown, allowed_links=set()) == []
    assert "javascript:alert(1)" in "\n".join(_text_lines(markdown))


def test_csv_keeps_its_formula_guard(db):
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    item = world.review.responses.first().item_id
    response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=item,
        verdict=Verdict.FAIL,
        note='=HYPERLINK("http://evil.example")',
    )
    rows = list(csv.DictReader(io.StringIO(render_csv(world.review))))
    assert '\'=HYPERLINK("http://evil.example")' in [row["note"] for row in rows]
