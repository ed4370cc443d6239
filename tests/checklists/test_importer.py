"""The Markdown importer: the seed corpus, the Markdown shapes, bad and hostile input."""

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from checklists.importer import ImportFailed, parse_document
from checklists.importer.source import repair_mojibake
from checklists.parsed import ParsedChecklist

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def parse_seed(prefix: str) -> ParsedChecklist:
    path = seed(prefix)
    return parse_document(path.read_bytes(), source_name=path.name)


def parse(text: str, name: str = "doc.md") -> ParsedChecklist:
    return parse_document(text.encode("utf-8"), source_name=name)


def texts(tree: ParsedChecklist) -> list[str]:
    return [item.text for item in tree.all_items()]


def find_section(tree: ParsedChecklist, title: str):
    return next(s for s in tree.sections if s.title == title)


def find_group(tree: ParsedChecklist, title: str):
    return next(g for s in tree.sections for g in s.groups if g.title == title)


def find_item(tree: ParsedChecklist, text: str):
    return next(i for i in tree.all_items() if i.text == text)


# -- the seed corpus ------------------------------------------------------------------------
# Counts were taken by reading each document (see the comments), not from the importer.

SEED_COUNTS = {
    # 13 "####" sections (11 with four **Label**: groups, two with three) of four questions,
    # plus the closing "Quality Gate Checklist" (13 boxes) after the "---" rule.
    "000": {"sections": 14, "groups": 50, "items": 213, "gate": 13, "optional": 15,
            "severity": {"should": 213}},
    # 14 numbered competency sections (34 **Label:** groups, 314 bullets), 5 workflow sections
    # of 8 fenced boxes, 4 severity sections (9 + 10 + 8 + 8 boxes), 5 issues with a
    # "Solutions" group (29 steps), 6 stack sections (38), 4 output-format sections (16),
    # benchmarks (8) and escalation (7).
    "001": {"sections": 40, "groups": 48, "items": 499, "gate": 0, "optional": 0,
            "severity": {"must": 14, "should": 465, "could": 20}},
    # "##" sections with "###" groups; 75 bullets outside fences, 20 of them nested guidance.
    "002": {"sections": 7, "groups": 12, "items": 55, "gate": 0, "optional": 0,
            "severity": {"should": 55}},
    # 17 tables: 333 data rows, 63 of them group rows whose other cells are empty.
    "003": {"sections": 17, "groups": 63, "items": 270, "gate": 0, "optional": 0,
            "severity": {"should": 270}},
    # Two leading "###" sections, "## Response Framework" (4 items, 4 groups), "## Constraints",
    # "## Collaboration Guidelines" (1 group).
    "004": {"sections": 5, "groups": 5, "items": 51, "gate": 0, "optional": 0,
            "severity": {"should": 51}},
}  # fmt: skip


@pytest.mark.parametrize("prefix", sorted(SEED_COUNTS))
def test_seed_structure_counts(prefix):
    tree = parse_seed(prefix)
    expected = SEED_COUNTS[prefix]
    items = tree.all_items()
    assert len(tree.sections) == expected["sections"]
    assert sum(len(s.groups) for s in tree.sections) == expected["groups"]
    assert len(items) == expected["items"]
    assert sum(i.is_gate for i in items) == expected["gate"]
    assert sum(i.optional for i in items) == expected["optional"]
    assert Counter(i.severity for i in items) == Counter(expected["severity"])


@pytest.mark.parametrize("prefix", sorted(SEED_COUNTS))
def test_seed_items_are_clean_text(prefix):
    tree = parse_seed(prefix)
    assert tree.content_hash and tree.source_name.startswith(prefix)
    for section in tree.sections:
        assert section.title and (section.items or section.groups)
        assert all(group.items for group in section.groups)
    for item in tree.all_items():
        assert item.text == item.text.strip() and item.text
        assert "  " not in item.text and "\n" not in item.text
        assert "\\n" not in item.text + item.guidance + item.rationale
        assert "**" not in item.text and not item.text.endswith(":")
        assert "‚" not in item.text and "□" not in item.text
        assert item.key == "" and item.line > 0


def test_seed_000_labels_groups_and_the_quality_gate():
    tree = parse_seed("000")
    assert tree.title == "Backend Engineer Quality Dimensions"
    assert tree.description.startswith("When validating backend requirements")
    first = tree.sections[0]
    assert first.title == "API Design & Contracts" and not first.items
    assert [g.title for g in first.groups] == [
        "REST API Design",
        "API Contracts",
        "API Versioning",
        "GraphQL Design (if applicable)",
    ]
    assert all(i.optional for i in first.groups[3].items)
    assert find_item(tree, "Is sharding strategy specified (if applicable)?").optional
    gate = tree.sections[-1]
    assert gate.title == "Quality Gate Checklist" and not gate.groups
    assert len(gate.items) == 13 and all(i.is_gate for i in gate.items)
    assert gate.items[0].text.startswith("API design follows REST principles")
    assert not any(i.is_gate for s in tree.sections[:-1] for i in s.all_items())


def test_seed_001_front_matter_fenced_boxes_and_severity_headings():
    tree = parse_seed("001")
    assert tree.title == "backend-specialist"
    assert tree.description.startswith("Backend specialist with mastery in server architecture")
    workflow = find_section(tree, "1. API Structure Analysis")
    assert len(workflow.items) == 8
    assert workflow.items[0].text == "Review endpoint design and URLs"  # "‚ñ° Review …" in a fence
    for title, severity, count in [
        ("Critical Issues (Must Fix)", "must", 9),
        ("Important Issues (Should Fix)", "should", 10),
        ("Code Quality Issues (Consider)", "could", 8),
        ("Performance Issues (Optimize)", "could", 8),
    ]:
        items = find_section(tree, title).items
        assert len(items) == count and {i.severity for i in items} == {severity}
    api = find_section(tree, "1. API Design & Architecture")
    assert [g.title for g in api.groups] == [
        "RESTful API Principles",
        "GraphQL Expertise",
        "API Versioning Strategies",
    ]
    assert len(find_section(tree, "Issue: Race Conditions").groups[0].items) == 5
    assert find_item(tree, "API Response Time (p95): ≤ 200ms")  # "‚â§" repaired
    assert any(s.title == "✅ Strengths" for s in tree.sections)
    assert "Core Competencies" not in [s.title for s in tree.sections]  # a chapter, no items


def _fence_lines(path: Path) -> set[int]:
    inside, lines = False, set()
    for number, line in enumerate(path.read_text("utf-8").split("\n"), start=1):
        if line.strip().startswith("```"):
            inside = not inside
        elif inside:
            lines.add(number)
    return lines


def test_seed_002_code_fences_make_no_items():
    tree = parse_seed("002")
    fenced = _fence_lines(seed("002"))
    assert len(fenced) == 199  # ten fences
    assert not [i for i in tree.all_items() if i.line in fenced]
    joined = " ".join(texts(tree))
    for code in ("languages", "CREATE INDEX", "const cache", "VALIDATION_ERROR", "Use nouns"):
        assert code not in joined
    assert "Dependency injection patterns" not in texts(tree)  # a YAML list item in a fence
    outputs = find_group(tree, "Standard Outputs")
    assert [i.text for i in outputs.items][:2] == ["Production-ready code", "API Documentation"]
    assert outputs.items[0].guidance.split("\n") == [
        "Fully tested (minimum 80% coverage)",
        "Security validated",
        "Performance optimized",
        "Well-documented",
    ]
    tdd = find_group(tree, "TDD Workflow")
    assert tdd.items[0].text == "Write Tests First - Focus on business logic and API contracts"
    assert "Identity" not in [s.title for s in tree.sections]


def test_seed_003_tables_map_columns_and_group_rows():
    tree = parse_seed("003")
    assert tree.title == "🛠 Backend Engineering Build Checklist"
    first = tree.sections[0]
    assert first.title == "✅ 1. Product & Engineering Alignment"
    assert len(first.items) == 14 and not first.groups
    functional = first.items[0]
    assert functional.text == "Functional Requirements"
    assert functional.guidance == 'User-facing behaviors (e.g., "reset password")'
    assert functional.rationale == "Defines the what of the product"
    docs = tree.sections[1]
    assert docs.title == "🧠 2. System Documentation & Diagrams"  # "üß†" repaired
    assert [g.title for g in docs.groups] == [
        "System Context",
        "Component Architecture",
        "Process Flows",
        "Deployment Architecture",
    ]
    assert docs.groups[0].items[0].text == "System Context Diagram"
    sharding = find_group(tree, "Sharding Strategy")  # an indented "- " group row
    assert [i.text for i in sharding.items] == [
        "Shard Key Design",
        "Shard Distribution",
        "Shard Management",
        "Cross-shard Operations",
    ]
    integrations = find_section(tree, "🔗 15. Integrations & Communication")
    assert [i.text for i in integrations.items][-1] == "API Rate Contracts"
    assert len(integrations.groups) == 1 and len(integrations.groups[0].items) == 3
    assert all(i.guidance and i.rationale for i in tree.all_items())
    assert not any(t == "Element" or "---" in t for t in texts(tree))


def test_seed_004_damaged_front_matter_and_body():
    tree = parse_seed("004")
    assert tree.title == "backend-engineer"
    assert "\\n" not in tree.description
    assert tree.description.startswith("ocessing systems\n- Design and build integration")
    assert [s.title for s in tree.sections] == [
        "Development Approach",
        "Quality Strategy",
        "Response Framework",
        "Constraints & Boundaries",
        "Collaboration Guidelines",
    ]
    assert "Code coverage includes unit tests, integration tests, and security testing" in texts(
        tree
    )
    assert not any(t.startswith("✅") for t in texts(tree))
    assert len(find_group(tree, "With Tech Lead").items) == 8


@pytest.mark.parametrize("prefix", sorted(SEED_COUNTS))
def test_reimporting_a_seed_gives_the_same_hash(prefix):
    raw = seed(prefix).read_bytes()
    first = parse_document(raw, source_name="a.md")
    assert parse_document(raw, source_name="b.md").content_hash == first.content_hash
    crlf = raw.replace(b"\n", b"  \r\n")
    assert parse_document(crlf, source_name="a.md").content_hash == first.content_hash
    changed = parse_document(raw + b"\n- one more item\n", source_name="a.md")
    assert changed.content_hash != first.content_hash


# -- Markdown shapes ------------------------------------------------------------------------


def test_front_matter_title_description_and_fallbacks():
    tree = parse("---\ntitle: Security review\ndescription: Line one\\nLine two\n---\n- a\n")
    assert (tree.title, tree.description) == ("Security review", "Line one\nLine two")
    assert parse("# From heading\n\nIntro text.\n\n- a\n").title == "From heading"
    assert parse("- a\n", name="uploads/api-review.md").title == "api-review"


def test_broken_yaml_front_matter_is_read_line_by_line():
    tree = parse("---\ntitle: Broken: [yaml\ndescription: 'still read'\n---\n- a\n")
    assert tree.title == "Broken: [yaml" and tree.description == "still read"


def test_section_level_follows_the_document():
    tree = parse("# Title\n## A\n- a1\n### G\n- g1\n## B\n- b1\n")
    assert [s.title for s in tree.sections] == ["A", "B"]
    assert tree.sections[0].groups[0].title == "G"
    deep = parse("## Chapter\n### S1\n**L1**:\n- x\n**L2**:\n- y\n### S2\n- z\n")
    assert [s.title for s in deep.sections] == ["S1", "S2"]
    assert [g.title for g in deep.sections[0].groups] == ["L1", "L2"]
    chapter = parse("# T\n## A\n- a\n### G\n**L**:\n- x\n")  # "##" would fold the label
    assert [(s.title, [g.title for g in s.groups]) for s in chapter.sections] == [
        ("A", []),
        ("G", ["L"]),
    ]


def test_bold_labels_and_rules():
    tree = parse(
        "## S\n**One**:\n- a\n**Two:**\n- b\n**Three** (if applicable):\n- c\n"
        "\n**Intro** with words but no colon\n- d\n\n---\n\n**Quality Gate**: before sign-off\n"
        "- [ ] gate item\n- [x] done item\n"
    )
    s, gate = tree.sections
    assert [g.title for g in s.groups] == ["One", "Two", "Three (if applicable)"]
    assert [i.text for i in s.groups[2].items] == ["c", "d"]
    assert s.groups[2].items[0].optional
    assert gate.title == "Quality Gate" and all(i.is_gate for i in gate.items)
    assert [i.text for i in gate.items] == ["gate item", "done item"]


def test_nested_bullets_become_guidance_rationale_or_items():
    tree = parse(
        "## S\n1. **Parent**\n   - detail one\n   - **Why**: because\n"
        "     - deeper detail\n2. Next\n  continued text\n\n  A later paragraph.\n"
        "- [ ] Box parent\n  - [ ] box child\n    - child detail\n"
    )
    parent, nxt, box, child = tree.all_items()
    assert (parent.text, parent.guidance) == ("Parent", "detail one\ndeeper detail")
    assert parent.rationale == "because"
    assert (nxt.text, nxt.guidance) == ("Next continued text", "A later paragraph.")
    assert (box.text, child.text, child.guidance) == ("Box parent", "box child", "child detail")


def test_fences_only_yield_box_lines():
    tree = parse(
        "## S\n```yaml\n- not an item\n# not a heading\n☐ fenced box\n  □ indented box\n```\n"
        "~~~\n‚ñ° mis-encoded box\n| a | b |\n~~~\n- after\n"
    )
    assert texts(tree) == ["fenced box", "indented box", "mis-encoded box", "after"]


def test_severity_gate_and_optional_from_headings():
    tree = parse(
        "## Critical Issues (Must Fix)\n- a\n## Important (Should Fix)\n- b\n"
        "## Ideas (Consider)\n- c\n## Speed (Optimize)\n- d\n## Plain\n- e (if applicable)\n"
        "## Quality gate\n- [ ] f\n### Nested (Must Fix)\n- g\n"
    )
    got = [(i.text, i.severity, i.is_gate, i.optional) for i in tree.all_items()]
    assert got == [
        ("a", "must", False, False),
        ("b", "should", False, False),
        ("c", "could", False, False),
        ("d", "could", False, False),
        ("e (if applicable)", "should", False, True),
        ("f", "should", True, False),
        ("g", "must", True, False),
    ]


def test_inline_formatting_is_stripped_and_html_kept_as_text():
    tree = parse(
        "## S\n- **Bold** and *italic* and __under__ with [a link](https://x.test):\n"
        "-   spaced    out   \t text  \n- <script>alert('x')</script> stays\n- ✅ Decorated\n"
        "- \n- [ ]\n* star\n+ plus\n3) paren\n"
    )
    assert texts(tree) == [
        "Bold and italic and under with a link (https://x.test)",
        "spaced out text",
        "<script>alert('x')</script> stays",
        "Decorated",
        "star",
        "plus",
        "paren",
    ]


def test_tables_without_header_and_with_extra_columns():
    tree = parse(
        "## S\n| Check | Notes | Owner | Why |\n|---|---|---|---|\n"
        "| Auth | Use OIDC | Team A | Safety |\n| - Loose | | | |\n\n"
        "| a | b | c |\n| d | e | f |\n"
    )
    first, second, third = tree.sections[0].items
    assert (first.text, first.guidance, first.rationale) == (
        "Auth",
        "Use OIDC\nOwner: Team A",
        "Safety",
    )
    assert (second.text, second.guidance, second.rationale) == ("a", "b", "c")
    assert third.text == "d"
    assert [g.title for g in tree.sections[0].groups] == []  # "- Loose" group had no rows


def test_setext_headings_and_blockquotes():
    tree = parse("Title\n=====\n\nPart\n----\n> - quoted item\n")
    assert tree.title == "Title"
    assert [(s.title, texts_of(s)) for s in tree.sections] == [("Part", ["quoted item"])]


def texts_of(section) -> list[str]:
    return [i.text for i in section.all_items()]


def test_mojibake_repair():
    assert repair_mojibake("‚úÖ done \uf8ffüß† ‚ñ° √©t√©") == "✅ done 🧠 □ été"
    assert repair_mojibake("lead lost: üß†") == "lead lost: 🧠"
    for kept in ("“é", "Größe", "naïve café", "≤ 200ms", "日本語", "‚ alone"):
        assert repair_mojibake(kept) == kept
    tree = parse("## ‚öôÔ∏è Setup\n- ‚úÖ check ‚â§ 5\n")
    assert tree.sections[0].title == "⚙️ Setup" and texts(tree) == ["check ≤ 5"]


def test_explicit_keys_are_read_and_checked():
    tree = parse(
        "## S\n- [ ] One <!-- key: api-one; severity: must; gate: yes; optional: yes -->\n"
        "- [ ] Two <!-- key: not a key! -->\n- [ ] Three <!-- key: api-one -->\n"
        "- [ ] Four <!-- just a comment -->\n"
    )
    one, two, three, four = tree.all_items()
    assert (one.key, one.severity, one.is_gate, one.optional) == ("api-one", "must", True, True)
    assert (two.key, three.key, four.key, four.text) == ("", "", "", "Four")
    assert len(tree.warnings) == 2
    assert "line 3" in tree.warnings[0] and "line 4" in tree.warnings[1]


# -- bad input ------------------------------------------------------------------------------


def refused(data, name: str = "security.md") -> ImportFailed:
    with pytest.raises(ImportFailed) as info:
        parse_document(data, source_name=name)
    error = info.value
    assert error.code == "import_failed"
    assert error.message.startswith(name)
    assert error.details["file"] == name
    return error


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  ", "", "\ufeff\n"])
def test_empty_documents_are_refused(data):
    error = refused(data)
    assert "empty" in error.message and error.details["line"] is None


def test_binary_is_refused():
    assert "binary" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").message
    assert "binary" in refused(bytes(range(1, 32)) * 50).message
    assert "UTF-16" in refused("- [ ] box".encode("utf-16")).message


def test_invalid_utf8_is_refused_naming_the_line():
    data = b"# Title\n\n- fine\n" + b"- caf\xe9 au lait\n"
    error = refused(data)
    assert error.message.startswith("security.md, line 4: ")
    assert "UTF-8" in error.message and error.details["line"] == 4


def test_oversized_documents_are_refused(settings):
    limit = settings.SPECGATE_IMPORT_MAX_BYTES
    assert limit == 2 * 1024 * 1024
    body = b"- item\n" * (limit // 7 + 1)
    error = refused(body)
    assert error.status == 413 and "2 MB" in error.message
    settings.SPECGATE_IMPORT_MAX_BYTES = 100
    assert "limit is 100 bytes" in refused("- x\n" * 30).message


def test_documents_without_items_are_refused():
    assert "no checklist items" in refused(b"# Title\n\nOnly prose here.\n").message
    error = refused(b"# Title\n\n```\n- in a fence that never closes\n")
    assert error.message.startswith("security.md, line 3: ") and "never closed" in error.message


def test_overlong_item_lines_are_refused_naming_the_line():
    error = refused("## S\n- ok\n- " + "x" * 10_001 + "\n")
    assert error.details["line"] == 3 and "10,000" in error.message
    tree = parse("## S\n- ok\n\n" + "prose " * 5000 + "\n")  # long prose is fine
    assert texts(tree) == ["ok"]


def test_wrong_types_are_refused():
    refused(12345)  # type: ignore[arg-type]
    refused(None)  # type: ignore[arg-type]
    assert "Unicode" in refused("- fine\n- bad \ud800\n").message


# -- hostile input --------------------------------------------------------------------------

PIECES = [
    "# ", "## ", "### ", "#### ", "- ", "* ", "1. ", "  - ", "    - ", "- [ ] ", "- [x] ",
    "□ ", "‚ñ°", "```", "~~~", "---", "***", "| a | b | c |", "|---|---|---|", "| - x | | |",
    "| g | | |", "**Label**:", "**Quality Gate**:", "(Must Fix)", "(Consider)",
    "(if applicable)", "<!-- key: k1 -->", "<!--", "-->", "\\n", "\\", "[", "](", "✅", "‚úÖ",
    "üß†", "<script>alert(1)</script>", "\t", "\x01", "\x7f", "\u2028", "\u200b", "é", "> ",
    "Why: ", "_", "**", ":", " ", "word", "\n", "\n", "\n", "\r\n", "\r", "===",
    "---\ntitle: [", "\x00", "\xff",
]  # fmt: skip


def hostile_document(rng: random.Random) -> bytes | str:
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 150)))
    if rng.random() < 0.5:
        return text
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.2:
        data = data.replace(b"\xc3\xbf", b"\xff")  # an invalid byte
    return data


def test_hostile_documents_only_ever_raise_import_failed():
    rng = random.Random(20240601)
    outcomes = Counter()
    for _ in range(600):
        try:
            tree = parse_document(hostile_document(rng), source_name="fuzz.md")
        except ImportFailed as error:
            assert error.message.startswith("fuzz.md")
            assert "could not be read" not in error.message  # the catch-all for bugs
            outcomes["refused"] += 1
            continue
        outcomes["parsed"] += 1
        for item in tree.all_items():
            assert item.text and item.text == " ".join(item.text.split())
            assert "\\n" not in item.text
            assert item.severity in ("must", "should", "could")
        assert all(len(s.title) <= 500 for s in tree.sections)
    assert outcomes["parsed"] > 100 and outcomes["refused"] > 50


@pytest.mark.parametrize(
    "document",
    [
        "- x\n" + " " * 5000 + "- deep\n",
        "\n".join(" " * i + "- level" for i in range(800)),
        "> " * 20000 + "- quoted\n",
        "---\ntitle: " + "[" * 50000 + "\n---\n- x\n",
        "---\na: &a [x, x]\n"
        + "".join(f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}]\n" for i in range(60))
        + "title: t\n---\n- x\n",
        "- " + "<!--" * 2000 + "\n- " + "*a " * 3000 + "\n- " + "[" * 9000 + "\n",
        "**" * 100000 + "\n- x\n",
        "|" * 9000 + "\n- x\n",
        "# " + "#" * 9000 + "\n- x\n",
    ],
)
def test_pathological_documents_parse_quickly(document):
    tree = parse_document(document, source_name="odd.md")
    assert tree.all_items()


def test_control_characters_and_html_survive_as_text():
    tree = parse("## S\x07\n- a\x1bb\x0bc <img src=x onerror=alert(1)>\n")
    assert tree.sections[0].title == "S"
    assert texts(tree) == ["ab c <img src=x onerror=alert(1)>"]
    assert re.fullmatch(r"[0-9a-f]{64}", tree.content_hash)
