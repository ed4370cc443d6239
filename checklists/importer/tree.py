"""Tokens → sections and groups (one level of nesting), with severity, gate and optional flags.

Which heading level makes sections is decided per document:

* A first heading that is the only one at the shallowest level is the document's title
  heading (``# Backend Specialist``, or seed 000's lone ``###``); it is not a section level of
  its own.
* Each remaining heading level is tried as the section level, shallowest first; the first that
  keeps every grouping wins — i.e. no item sits under two grouping constructs (a deeper heading
  *and* a bold label or table group row, or two deeper headings) below its section. So seed 001
  (``##`` chapters, numbered ``###`` sections, ``**Label:**`` groups) uses ``###``, and a
  ``##``/``###`` document without labels uses ``##``. When every level loses something, the
  level that folds the fewest items is used.

With the section level S chosen:

* A heading at level ≤ S (or not deeper than the heading that opened the current section)
  starts a section. Headings above S ("chapters") that hold no items of
  their own disappear as empty sections; their titles still count for severity and gate.
* A heading deeper than S starts a group — or, before any section has started, a section of its
  own (seed 004 begins with ``###`` headings). A heading deeper than the current heading group
  folds into that group (its items join the group).
* A bold label starts a group, as does a table row whose other cells are empty; inside a
  heading group they fold into it. After a ``---`` rule, a bold label starts a section (seed
  000's closing "Quality Gate Checklist"). A rule also ends the current group.
* Rows marked ``- `` belong to the table group above them; once a group's rows are marked, an
  unmarked row belongs to the section again. A table group ends with its table.
* Items before any heading go to a section named after the document.
* An item's severity comes from the nearest enclosing title (label, group, section, chapter)
  that has a severity marker; gate and optional from any enclosing title (see ``inline``);
  an exporter comment on the item overrides all three.
* Empty groups and sections are dropped.
"""

from dataclasses import dataclass

from checklists.parsed import ParsedItem, ParsedSection

from .blocks import Break, GroupRow, Heading, ItemToken, Label, TableEnd, Token
from .inline import is_gate_title, is_optional_text, severity_of


@dataclass
class Outcome:
    sections: list[ParsedSection]
    folded: int  # items whose grouping had to be folded away at this section level


def derive_flags(text: str, context: list[str]) -> tuple[str, bool, bool]:
    """(severity, is_gate, optional) that the titles around an item (innermost first) imply."""
    severity = next((s for s in map(severity_of, context) if s), "should")
    gate = any(map(is_gate_title, context))
    optional = is_optional_text(text) or any(map(is_optional_text, context))
    return severity, gate, optional


def make_item(token: ItemToken, context: list[str]) -> ParsedItem:
    """The item, with flags from its comment or else from the titles around it."""
    severity, gate, optional = derive_flags(token.text, context)
    meta = token.meta
    if meta is not None:
        severity = meta.severity or severity
        gate = gate if meta.gate is None else meta.gate
        optional = optional if meta.optional is None else meta.optional
    return ParsedItem(
        text=token.text,
        guidance="\n".join(token.guidance),
        rationale="\n".join(token.rationale),
        severity=severity,
        is_gate=gate,
        optional=optional,
        line=token.line,
        key=meta.key if meta else "",
    )


class _Builder:
    def __init__(self, level: int, fallback_title: str, *, dry: bool = False):
        self.dry = dry  # only count folded items (choosing the section level)
        self.level = level
        self.fallback_title = fallback_title
        self.sections: list[ParsedSection] = []
        self.section: ParsedSection | None = None
        self.section_level: int | None = None  # heading level that opened the section
        self.group: ParsedSection | None = None
        self.group_level: int | None = None  # set when the group came from a heading
        self.headings: list[tuple[int, str]] = []  # open headings, for context
        self.label: str | None = None
        self.row: str | None = None
        self.base_group: ParsedSection | None = None  # group to return to after a table
        self.in_row_group = False
        self.row_dashed: bool | None = None
        self.folds = {"heading": False, "label": False, "row": False}
        self.after_break = False
        self.folded = 0

    def build(self, tokens: list[Token]) -> Outcome:
        handlers = {
            Heading: self._heading,
            Label: self._label,
            Break: self._break,
            TableEnd: self._table_end,
            GroupRow: self._group_row,
            ItemToken: self._item,
        }
        for token in tokens:
            handlers[type(token)](token)
        return Outcome(_prune(self.sections), self.folded)

    # -- containers -----------------------------------------------------------------------
    def _open_section(self, title: str, line: int, level: int | None) -> None:
        self.section = ParsedSection(title=title, line=line)
        self.sections.append(self.section)
        self.section_level = level
        self._close_group()

    def _open_group(self, title: str, line: int, level: int | None) -> None:
        if self.section is None:
            self._open_section(self.fallback_title, line, None)
        assert self.section is not None
        self.group = ParsedSection(title=title, line=line)
        self.section.groups.append(self.group)
        self.group_level = level

    def _close_group(self) -> None:
        self.group = self.base_group = None
        self.group_level = None
        self.label = self.row = None
        self.in_row_group = False
        self.folds = {"heading": False, "label": False, "row": False}

    def _pop_headings(self, level: int) -> None:
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()

    # -- tokens ---------------------------------------------------------------------------
    def _heading(self, token: Heading) -> None:
        self.after_break = False
        self._pop_headings(token.level)
        self.headings.append((token.level, token.title))
        top = max(self.level, self.section_level or 0)
        if self.section is None or self.section_level is None or token.level <= top:
            self._open_section(token.title, token.line, token.level)
        elif self.group_level is None or token.level <= self.group_level:
            self._close_group()
            self._open_group(token.title, token.line, token.level)
        else:
            self.label = self.row = None
            self.folds = {"heading": True, "label": False, "row": False}

    def _label(self, token: Label) -> None:
        self._table_end(None)
        if self.after_break:
            self._pop_headings(self.level)
            self._open_section(token.title, token.line, self.level)
            self.label = token.title
        elif self.group_level is not None:
            self.label = token.title
            self.folds["label"] = True
        else:
            self._close_group()
            self._open_group(token.title, token.line, None)
            self.label = token.title
        self.after_break = False

    def _break(self, token: Break) -> None:
        self._close_group()
        if self.section_level is not None:
            self._pop_headings(self.section_level + 1)
        self.after_break = True

    def _group_row(self, token: GroupRow) -> None:
        self.after_break = False
        if self.group_level is not None:
            self.row = token.title
            self.folds["row"] = True
            return
        if not self.in_row_group:
            self.base_group = self.group
        label, base = self.label, self.base_group
        self._open_group(token.title, token.line, None)
        self.label, self.base_group = label, base
        self.row = token.title
        self.in_row_group = True
        self.row_dashed = None

    def _table_end(self, token: TableEnd | None) -> None:
        if self.in_row_group:
            self.group = self.base_group
            self.in_row_group = False
        self.row = None
        self.folds["row"] = False

    def _item(self, token: ItemToken) -> None:
        self.after_break = False
        if self.section is None:
            self._open_section(self.fallback_title, token.line, None)
        if token.in_table and self.in_row_group:
            if self.row_dashed is None:
                self.row_dashed = token.dashed
            elif self.row_dashed and not token.dashed:
                self._table_end(None)
        if any(self.folds.values()):
            self.folded += 1
        if self.dry:
            return
        context = [t for t in (self.row, self.label) if t]
        context += [title for _, title in reversed(self.headings)]
        target = self.group or self.section
        assert target is not None
        target.items.append(make_item(token, context))


def _prune(sections: list[ParsedSection]) -> list[ParsedSection]:
    kept = []
    for section in sections:
        section.groups = [group for group in section.groups if group.items]
        if section.items or section.groups:
            kept.append(section)
    return kept


def title_heading(tokens: list[Token]) -> Heading | None:
    """The first heading when it is the only one at the shallowest level."""
    headings = [token for token in tokens if isinstance(token, Heading)]
    if not headings:
        return None
    shallowest = min(h.level for h in headings)
    first = headings[0]
    if first.level == shallowest and sum(h.level == shallowest for h in headings) == 1:
        return first
    return None


def build_sections(tokens: list[Token], fallback_title: str) -> list[ParsedSection]:
    """Sections for the tokens, at the section level that keeps the most structure."""
    title = title_heading(tokens)
    levels = sorted({t.level for t in tokens if isinstance(t, Heading) and t is not title})
    chosen, fewest = title.level if title else 1, None
    for level in levels:
        folded = _Builder(level, fallback_title, dry=True).build(tokens).folded
        if fewest is None or folded < fewest:
            chosen, fewest = level, folded
        if folded == 0:
            break
    return _Builder(chosen, fallback_title).build(tokens).sections
