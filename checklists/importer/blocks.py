"""Markdown lines → a flat list of tokens (headings, labels, rules, group rows, items).

Line rules (the tree built from the tokens is ``tree.py``'s business):

* Blockquote markers (``>``) are ignored; the quoted text is read like any other.
* Code fences (``````` or ``~~~``): only lines that start with a box character (``□ ☐ ☑ ☒``,
  also mis-encoded as ``‚ñ°``) are items; nothing else inside a fence is anything.
* ATX (``## Title``) and setext (``Title`` over ``===``/``---``) headings; ``---``/``***`` rules.
* A bold label on a line of its own — ``**Label**:``, ``**Label:**``, ``**Label** (if
  applicable):`` or a line that is bold throughout — starts a group. Text after the colon is an
  introduction and is dropped.
* Bullets (``-``, ``*``, ``+``, ``•``, ``1.``, ``1)``) and lines that start with a box are items.
  ``- [ ]``/``- [x]`` boxes are items like any other bullet.
* Nested plain sub-bullets (indented two or more columns under an item) are that item's
  guidance, one line each, because in the seeds they describe their parent ("Production-ready
  code" → "Fully tested", "Security validated", …). A sub-bullet that starts with ``Why:``,
  ``Why it matters:`` or ``Rationale:`` is rationale instead. A nested *box* is a separate item:
  a box is always something to tick. A leading backslash in a sub-bullet is an escape and is
  dropped (the exporter writes ``\\[`` for guidance that starts with a bracket).
* An indented line right under an item continues its text (or its last guidance line); after a
  blank line, an indented paragraph is one more line of guidance.
* Tables: the header row (the row above the ``---|---`` separator) names the columns. The first
  column is the item text; a "why / rationale / critical / reason" column is the rationale; a
  "description / details / how / notes" column is the guidance (else the first other column);
  any other column is added to the guidance as ``Header: value``. A row whose other cells are
  empty is a group row; ``- `` before a cell's text marks a row as belonging to the group above.
* Lines that hold items, headings, labels or table rows may be at most 10,000 characters; a
  longer one is refused, naming the line (prose and code are not limited).
* The first prose paragraph before the second heading and before any item is kept as a
  possible description.
"""

import re
from dataclasses import dataclass, field

from .errors import ImportFailed
from .inline import (
    RATIONALE_START,
    THEMATIC_BREAK,
    Meta,
    clean_inline,
    clean_item_text,
    clean_title,
    split_meta,
    starts_with_box,
    strip_box,
)

MAX_LINE_CHARS = 10_000

_QUOTE = re.compile(r"^(?:[ \t]{0,3}>[ ]?)+")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-{2,})[ \t]*$")
_BULLET = re.compile(r"^([ \t]*)(?:[-*+•◦‣]|\d{1,9}[.)])(?:[ \t]+(.*)|$)")
_LABEL = re.compile(r"^[ \t]*(\*\*|__)((?:(?!\1).)+?)\1(.*)$")
_LABEL_REST = re.compile(r"^\s*(\([^()]*\))?\s*:")
_SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_ROW_DASH = re.compile(r"^[-*+•]\s+")
_RATIONALE_COLUMN = re.compile(
    r"\bwhy\b|rational|reason|critical|matters|importan|purpose|benefit|impact", re.IGNORECASE
)
_GUIDANCE_COLUMN = re.compile(
    r"descr|detail|guidance|\bhow\b|note|explan|\bwhat\b|criteri|definition|meaning",
    re.IGNORECASE,
)


@dataclass
class Heading:
    line: int
    level: int
    title: str


@dataclass
class Label:
    line: int
    title: str


@dataclass
class Break:
    line: int


@dataclass
class TableEnd:
    line: int


@dataclass
class GroupRow:
    line: int
    title: str
    dashed: bool


@dataclass
class ItemToken:
    line: int
    text: str
    guidance: list[str] = field(default_factory=list)
    rationale: list[str] = field(default_factory=list)
    meta: Meta | None = None
    in_table: bool = False
    dashed: bool = False


Token = Heading | Label | Break | TableEnd | GroupRow | ItemToken


@dataclass
class Blocks:
    tokens: list[Token]
    description: str
    warnings: list[str]
    unclosed_fence: int | None


@dataclass
class _Table:
    guidance: int | None
    rationale: int | None
    extras: dict[int, str]  # column index → header name


def _indent(line: str) -> int:
    body = line.lstrip(" \t")
    return len(line[: len(line) - len(body)].expandtabs(4))


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [cell.strip() for cell in _CELL_SPLIT.split(row)]


def _is_separator(line: str | None) -> bool:
    if line is None:
        return False
    line = line.strip()
    return "|" in line and "-" in line and bool(_SEPARATOR.match(line))


def _columns(header: list[str] | None) -> _Table:
    """Which column is guidance, which rationale, which are extra (see the module doc)."""
    if header is None:
        return _Table(guidance=1, rationale=2, extras={})
    table = _Table(guidance=None, rationale=None, extras={})
    for index, name in enumerate(header[1:], start=1):
        title = clean_title(name)
        if table.rationale is None and _RATIONALE_COLUMN.search(title):
            table.rationale = index
        elif table.guidance is None and _GUIDANCE_COLUMN.search(title):
            table.guidance = index
        else:
            table.extras[index] = title or f"Column {index + 1}"
    if table.guidance is None and table.extras:
        table.guidance = min(table.extras)
        del table.extras[table.guidance]
    return table


def _label_title(line: str) -> str | None:
    """The group title of a bold label line, or None when the line is not a label."""
    match = _LABEL.match(line)
    if not match:
        return None
    label, rest = match.group(2), match.group(3)
    if label.rstrip().endswith(":") or not rest.strip():
        return clean_title(label) or None
    tail = _LABEL_REST.match(rest)
    if not tail:
        return None
    return clean_title(f"{label} {tail.group(1) or ''}") or None


class _Tokenizer:
    def __init__(self, lines: list[tuple[int, str]], name: str):
        self.lines = [(number, _QUOTE.sub("", text)) for number, text in lines]
        self.name = name
        self.tokens: list[Token] = []
        self.warnings: list[str] = []
        self.fence: tuple[str, int, int] | None = None  # character, length, opening line
        self.table: _Table | None = None
        self.open_items: list[tuple[int, ItemToken]] = []  # (indent, item) of open list items
        self.last: tuple[ItemToken, str] | None = None  # where a continuation line goes
        self.blank = True
        self.description: list[str] = []
        self.description_done = False
        self.headings = 0

    def run(self) -> Blocks:
        index = 0
        while index < len(self.lines):
            number, line = self.lines[index]
            following = self.lines[index + 1][1] if index + 1 < len(self.lines) else None
            index += self._line(number, line, following)
        if self.table is not None:
            self._end_table(self.lines[-1][0])
        unclosed = self.fence[2] if self.fence else None
        if unclosed:
            self.warnings.append(f"line {unclosed}: a code fence is opened here and never closed.")
        description = " ".join(" ".join(self.description).split())
        return Blocks(self.tokens, description, self.warnings, unclosed)

    # -- dispatch -------------------------------------------------------------------------
    def _line(self, number: int, line: str, following: str | None) -> int:
        """Handle one line; return how many lines were consumed (2 for setext and headers)."""
        if self.fence:
            self._in_fence(number, line)
            return 1
        stripped = line.strip()
        if not stripped:
            self._blank()
            return 1
        if self.table is not None:
            if "|" in stripped:
                self._table_row(number, stripped)
                return 1
            self._end_table(number)
        return self._block(number, line, stripped, following)

    def _block(self, number: int, line: str, stripped: str, following: str | None) -> int:
        fence = _FENCE.match(line)
        if fence and not (fence.group(1)[0] == "`" and "`" in line[fence.end() :]):
            mark = fence.group(1)
            self.fence = (mark[0], len(mark), number)
            return 1
        heading = _ATX.match(line)
        if heading:
            self._heading(number, len(heading.group(1)), heading.group(2) or "", line)
            return 1
        if THEMATIC_BREAK.match(line):
            self._structure(Break(number))
            return 1
        bullet = _BULLET.match(line)
        if bullet:
            self._bullet(number, _indent(line), bullet.group(2) or "", line)
            return 1
        if starts_with_box(stripped):
            self._bullet(number, _indent(line), stripped, line)
            return 1
        if stripped.startswith("|") or ("|" in stripped and _is_separator(following)):
            return self._start_table(number, stripped, following)
        if following is not None and _SETEXT.match(following) and self.blank:
            self._heading(number, 1 if following.strip()[0] == "=" else 2, stripped, line)
            return 2
        label = _label_title(line)
        if label:
            self._check_length(number, line)
            self._structure(Label(number, label))
            return 1
        self._prose(number, line, stripped)
        return 1

    def _check_length(self, number: int, line: str) -> None:
        if len(line) > MAX_LINE_CHARS:
            raise ImportFailed(
                self.name,
                f"the line is {len(line):,} characters long; lines that hold items, headings "
                f"or table rows may have at most {MAX_LINE_CHARS:,}.",
                line=number,
            )

    # -- structure ------------------------------------------------------------------------
    def _structure(self, token: Token) -> None:
        self.tokens.append(token)
        self.open_items.clear()
        self.last = None
        self.blank = False

    def _heading(self, number: int, level: int, text: str, line: str) -> None:
        self._check_length(number, line)
        title = clean_title(text)
        self.blank = True
        if not title:
            return
        self.headings += 1
        if self.headings > 1:
            self.description_done = True
        self._structure(Heading(number, level, title))
        self.blank = True

    def _blank(self) -> None:
        self.blank = True
        if self.table is not None:
            self._end_table(0)
        if self.description:
            self.description_done = True

    # -- fences ---------------------------------------------------------------------------
    def _in_fence(self, number: int, line: str) -> None:
        char, length, _ = self.fence  # type: ignore[misc]
        closing = _FENCE.match(line)
        mark = closing.group(1) if closing else ""
        if mark[:1] == char and len(mark) >= length and not line.strip().strip(char):
            self.fence = None
            return
        stripped = line.strip()
        if starts_with_box(stripped):
            self._check_length(number, line)
            text = clean_item_text(strip_box(stripped)[1])
            if text:
                self.tokens.append(ItemToken(number, text))
                self.description_done = True

    # -- list items -----------------------------------------------------------------------
    def _parent(self, indent: int) -> ItemToken | None:
        while self.open_items and self.open_items[-1][0] + 2 > indent:
            self.open_items.pop()
        return self.open_items[-1][1] if self.open_items else None

    def _bullet(self, number: int, indent: int, body: str, line: str) -> None:
        self._check_length(number, line)
        meta, body = split_meta(body)
        parent = self._parent(indent)
        if parent is not None and not starts_with_box(body):
            self._detail(parent, body)
            return
        text = clean_item_text(strip_box(body)[1])
        self.blank = False
        if not text:
            return
        if meta and meta.bad_key:
            self.warnings.append(f"line {number}: '{meta.bad_key}' is not a valid key; ignored.")
        item = ItemToken(number, text, meta=meta)
        self.tokens.append(item)
        self.open_items.append((indent, item))
        self.last = (item, "text")
        self.description_done = True

    def _detail(self, parent: ItemToken, body: str) -> None:
        """A nested plain bullet: a line of rationale or guidance for ``parent``."""
        self.blank = False
        rationale = RATIONALE_START.match(body)
        if rationale:
            text = clean_inline(body[rationale.end() :])
            if text:
                parent.rationale.append(text)
                self.last = (parent, "rationale")
            return
        text = clean_inline(body[1:] if body.startswith("\\") else body)
        if text:
            parent.guidance.append(text)
            self.last = (parent, "guidance")

    def _prose(self, number: int, line: str, stripped: str) -> None:
        top = self.open_items[-1] if self.open_items else None
        if top and self.last and (not self.blank or _indent(line) >= top[0] + 2):
            self._check_length(number, line)
            if self.blank:
                self._detail(top[1], stripped)
            else:
                self._continue(stripped)
            return
        self.open_items.clear()
        self.last = None
        self.blank = False
        if not self.description_done and self.headings <= 1:
            self.description.append(stripped)

    def _continue(self, stripped: str) -> None:
        item, where = self.last  # type: ignore[misc]
        if where == "text":
            item.text = clean_item_text(f"{item.text} {stripped}")
        else:
            lines = item.guidance if where == "guidance" else item.rationale
            lines[-1] = clean_inline(f"{lines[-1]} {stripped}")

    # -- tables ---------------------------------------------------------------------------
    def _start_table(self, number: int, stripped: str, following: str | None) -> int:
        self.open_items.clear()
        self.last = None
        self.blank = False
        self.description_done = True
        if _is_separator(following):
            self._check_length(number, stripped)
            self.table = _columns(_cells(stripped))
            return 2
        self.table = _columns(None)
        self._table_row(number, stripped)
        return 1

    def _end_table(self, number: int) -> None:
        self.tokens.append(TableEnd(number))
        self.table = None

    def _table_row(self, number: int, row: str) -> None:
        self._check_length(number, row)
        if _is_separator(row):
            return
        cells = _cells(row)
        if not any(cells):
            return
        first = cells[0]
        dash = _ROW_DASH.match(first)
        first = first[dash.end() :] if dash else first
        if len(cells) > 1 and first and not any(cells[1:]):
            title = clean_title(first)
            if title:
                self.tokens.append(GroupRow(number, title, dashed=bool(dash)))
            return
        text = clean_item_text(strip_box(first)[1])
        if not text:
            self.warnings.append(f"line {number}: a table row without text in its first column.")
            return
        self.tokens.append(self._row_item(number, text, cells, bool(dash)))

    def _row_item(self, number: int, text: str, cells: list[str], dashed: bool) -> ItemToken:
        table = self.table
        assert table is not None

        values = [clean_inline(value) for value in cells]

        def cell(index: int | None) -> str:
            return values[index] if index is not None and index < len(values) else ""

        guidance = [cell(table.guidance)] if cell(table.guidance) else []
        extra_indexes = sorted(set(table.extras) | set(range(3, len(cells))))
        for index in extra_indexes:
            if index in (table.guidance, table.rationale) or not cell(index):
                continue
            guidance.append(f"{table.extras.get(index, f'Column {index + 1}')}: {cell(index)}")
        rationale = [cell(table.rationale)] if cell(table.rationale) else []
        return ItemToken(number, text, guidance, rationale, in_table=True, dashed=dashed)


def tokenize(lines: list[tuple[int, str]], name: str) -> Blocks:
    """Tokens for the body lines, given as ``(line number, text)``."""
    return _Tokenizer(lines, name).run()
