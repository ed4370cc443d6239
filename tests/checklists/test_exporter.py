"""The Markdown exporter: readable output that imports back to the same tree."""

import random
from pathlib import Path

import pytest

from checklists.exporter import export_markdown, tree_from_version
from checklists.importer import ImportFailed, parse_document
from checklists.models import Item, Section
from checklists.parsed import ParsedChecklist, ParsedItem, ParsedSection
from tests.checklists.factories import build_version

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def outline(tree: ParsedChecklist) -> tuple:
    """Everything a round trip must keep (line numbers and hashes are not kept)."""

    def items(section: ParsedSection) -> list[tuple]:
        return [
            (i.text, i.guidance, i.rationale, i.severity, i.is_gate, i.optional, i.key)
            for i in section.items
        ]

    return (
        tree.title,
        tree.description,
        [(s.title, items(s), [(g.title, items(g)) for g in s.groups]) for s in tree.sections],
    )


def round_trip(tree: ParsedChecklist) -> ParsedChecklist:
    return parse_document(export_markdown(tree), source_name="export.md")


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_every_seed_round_trips(path):
    tree = parse_document(path.read_bytes(), source_name=path.name)
    again = round_trip(tree)
    assert outline(again) == outline(tree)
    assert outline(round_trip(again)) == outline(tree)
    assert export_markdown(again) == export_markdown(tree)


def test_export_is_readable_markdown():
    path = next(SEEDS.glob("003_*.txt"))
    text = export_markdown(parse_document(path.read_bytes(), source_name=path.name))
    lines = text.split("\n")
    assert lines[:2] == ["---", "title: 🛠 Backend Engineering Build Checklist"]
    assert "# 🛠 Backend Engineering Build Checklist" in lines
    assert "## 🧠 2. System Documentation & Diagrams" in lines
    assert "### System Context" in lines
    assert "- [ ] Functional Requirements" in lines
    assert '  - User-facing behaviors (e.g., "reset password")' in lines
    assert "  - Why it matters: Defines the what of the product" in lines
    assert "<!--" not in text  # no keys, and every flag follows from the headings
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_flags_the_headings_do_not_imply_are_written_in_a_comment():
    tree = ParsedChecklist(
        title="Review",
        description="First line.\n\nSecond paragraph: with a colon.",
        source_name="x.md",
        content_hash="",
        sections=[
            ParsedSection(
                title="Critical Issues (Must Fix)",
                items=[
                    ParsedItem(text="Follows the heading", severity="must"),
                    ParsedItem(text="Edited later", severity="could", key="edited-1"),
                ],
                groups=[
                    ParsedSection(
                        title="Quality gate",
                        items=[
                            ParsedItem(text="Gate", severity="must", is_gate=True),
                            ParsedItem(text="Not a gate", severity="must", optional=True),
                        ],
                    )
                ],
            )
        ],
    )
    text = export_markdown(tree)
    assert "- [ ] Follows the heading\n" in text
    assert "- [ ] Edited later <!-- key: edited-1; severity: could -->" in text
    assert "- [ ] Gate\n" in text
    assert "- [ ] Not a gate <!-- gate: no; optional: yes -->" in text
    assert "description: |-\n  First line.\n\n  Second paragraph: with a colon.\n" in text
    assert outline(round_trip(tree)) == outline(tree)


def test_guidance_that_looks_like_markdown_is_escaped():
    tricky = "[ ] not a box\n□ not a box either\nWhy: not rationale\n---\n\\ backslash\nplain"
    tree = ParsedChecklist(
        title="T",
        description="",
        source_name="x.md",
        content_hash="",
        sections=[
            ParsedSection(
                title="S",
                items=[ParsedItem(text="Item", guidance=tricky, rationale="one\ntwo")],
            )
        ],
    )
    again = round_trip(tree)
    assert len(again.all_items()) == 1
    assert outline(again) == outline(tree)


def test_awkward_titles_still_make_sections():
    tree = ParsedChecklist(
        title="**",
        description="",
        source_name="x.md",
        content_hash="",
        sections=[
            ParsedSection(title="#", items=[ParsedItem(text="a")]),
            ParsedSection(title="B", groups=[ParsedSection(title="", items=[ParsedItem("b")])]),
        ],
    )
    again = round_trip(tree)
    assert [s.title for s in again.sections] == ["(untitled)", "B"]
    assert again.sections[1].groups[0].title == "(untitled)"


WORDS = [
    "# ", "## ", "- ", "  - ", "- [ ] ", "□ ", "```", "---", "| a | b | c |", "|---|---|---|",
    "| g | | |", "| - x | y | z |", "**Label**:", "**Quality Gate**:", "(Must Fix)",
    "(Consider)", "(if applicable)", "<!-- key: k1 -->", "<!-- severity: must -->", "<!--",
    "\\n", "\\", "[", "](u)", "*", "_", "**", ":", "✅", "‚úÖ", "<b>", "Why: ", "\n", "\n",
    "\n", "word", "Another phrase", "> ", "\t", "===",
]  # fmt: skip


def test_random_documents_round_trip():
    rng = random.Random(7)
    checked = 0
    for _ in range(400):
        document = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 120)))
        try:
            tree = parse_document(document, source_name="random.md")
        except ImportFailed:
            continue
        checked += 1
        assert outline(round_trip(tree)) == outline(tree), document
    assert checked > 200


@pytest.mark.django_db
def test_tree_from_version_is_three_queries(django_assert_max_num_queries):
    small, large = build_version(sections=1, items=1), build_version(sections=8, items=12)
    for version in (small, large):
        version.refresh_from_db()
        with django_assert_max_num_queries(3):
            tree_from_version(version)


@pytest.mark.django_db
def test_tree_from_version_keeps_structure_keys_and_flags():
    version = build_version(sections=2, groups=2, items=3)
    tree = tree_from_version(version)
    assert [s.title for s in tree.sections] == ["Section 1", "Section 2"]
    assert [g.title for g in tree.sections[0].groups] == ["Group 1.1", "Group 1.2"]
    assert [i.key for i in tree.sections[0].items] == ["k-1", "k-2", "k-3"]
    saved = {i.key: i for i in Item.objects.filter(version=version)}
    assert len(tree.all_items()) == len(saved) == 18
    for item in tree.all_items():
        row = saved[item.key]
        assert (item.text, item.severity, item.is_gate, item.optional) == (
            row.text,
            row.severity,
            row.is_gate,
            row.optional,
        )
    assert tree.title == version.template.title
    again = round_trip(tree)
    assert outline(again) == outline(tree)
    assert {i.is_gate for i in again.all_items()} == {True, False}


@pytest.mark.django_db
def test_tree_from_version_follows_positions_and_guidance():
    version = build_version(sections=1, groups=0, items=0)
    section = Section.objects.get(version=version)
    group = Section.objects.create(version=version, parent=section, title="Late group", position=9)
    Item.objects.create(
        version=version, section=group, key="b", text="Second", position=5, rationale="Why"
    )
    Item.objects.create(
        version=version,
        section=section,
        key="a",
        text="First",
        position=1,
        guidance="Line one\n\n  Line two  ",
    )
    tree = tree_from_version(version)
    assert [i.key for i in tree.all_items()] == ["a", "b"]
    again = round_trip(tree)
    assert again.all_items()[0].guidance == "Line one\nLine two"
    assert again.all_items()[1].rationale == "Why"
    assert [i.key for i in again.all_items()] == ["a", "b"]
