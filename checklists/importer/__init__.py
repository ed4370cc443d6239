"""The Markdown importer: a checklist document in, a ``ParsedChecklist`` tree out, no writes.

``parse_document(data, source_name=…)`` reads every shape the seed corpus shows (see
``../shared/seeds/README.md``): YAML front matter, headings as sections and groups, bold labels
and table group rows as groups, bullets, boxes and table rows as items, box lines inside code
fences, severity/gate/optional markers in titles, mis-encoded text. The rules live with the
code that applies them:

* ``source``      — size, binary and UTF-8 checks, mojibake repair, normalisation, hash;
* ``frontmatter`` — title and description from the ``---`` block;
* ``blocks``      — what each line is (heading, label, item, table row, fence, …);
* ``tree``        — which level makes sections, how groups nest, flags from titles;
* ``inline``      — text clean-up, markers and the exporter's ``<!-- key: … -->`` comments.

Anything wrong with the input is an ``ImportFailed`` naming the file (and the line where one
is to blame); no other exception escapes, whatever the input.
"""

import logging
from pathlib import PurePath

from checklists.parsed import ParsedChecklist, ParsedSection

from .blocks import Heading, Token, tokenize
from .errors import ImportFailed
from .frontmatter import TITLE_MAX, clean_description, split_front_matter, unescape
from .inline import clean_title
from .source import content_hash, read_source
from .tree import build_sections, title_heading

__all__ = ["ImportFailed", "parse_document"]

logger = logging.getLogger(__name__)


def _display_name(source_name: object) -> str:
    name = " ".join(str(source_name or "").split())[:255]
    return name or "document"


def parse_document(data: bytes | str, *, source_name: str) -> ParsedChecklist:
    """Parse a Markdown checklist. Raises ImportFailed (and only that) for bad input."""
    name = _display_name(source_name)
    try:
        return _parse(data, name)
    except ImportFailed:
        raise
    except Exception as exc:  # a bug must not turn hostile input into a 500
        logger.exception("checklist importer failed on %s", name)
        raise ImportFailed(name, "could not be read as a checklist document.") from exc


def _fallback_title(name: str) -> str:
    stem = PurePath(name.replace("\\", "/")).stem
    return " ".join(stem.split())[:TITLE_MAX] or "Untitled checklist"


def _parse(data: bytes | str, name: str) -> ParsedChecklist:
    text = read_source(data, name)
    lines = text.split("\n")
    front = split_front_matter(lines)
    body = [(number, lines[number - 1]) for number in range(front.body_start + 1, len(lines) + 1)]
    blocks = tokenize(body, name)
    heading = title_heading(blocks.tokens)
    title = front.title or (heading.title[:TITLE_MAX].strip() if heading else "")
    title = title or _first_level_one(blocks.tokens) or _fallback_title(name)
    sections = build_sections(blocks.tokens, clean_title(title) or "Checklist")
    if not any(section.all_items() for section in sections):
        raise _no_items(name, blocks.unclosed_fence)
    warnings = [*blocks.warnings, *_duplicate_keys(sections)]
    return ParsedChecklist(
        title=title,
        description=front.description or clean_description(unescape(blocks.description)),
        sections=sections,
        source_name=name,
        content_hash=content_hash(text),
        source_text=text,
        warnings=warnings,
    )


def _first_level_one(tokens: list[Token]) -> str:
    for token in tokens:
        if isinstance(token, Heading) and token.level == 1:
            return token.title[:TITLE_MAX].strip()
    return ""


def _no_items(name: str, unclosed_fence: int | None) -> ImportFailed:
    if unclosed_fence:
        return ImportFailed(
            name,
            "a code fence opened here is never closed, so the rest of the document was read "
            "as code and no checklist items were found.",
            line=unclosed_fence,
        )
    return ImportFailed(
        name,
        "no checklist items found (expected bullet lines, check boxes or table rows).",
    )


def _duplicate_keys(sections: list[ParsedSection]) -> list[str]:
    """Drop repeated explicit keys (the first one keeps it) and say so."""
    seen: set[str] = set()
    warnings = []
    for section in sections:
        for item in section.all_items():
            if not item.key:
                continue
            if item.key in seen:
                warnings.append(f"line {item.line}: key '{item.key}' is used twice; ignored.")
                item.key = ""
            else:
                seen.add(item.key)
    return warnings
