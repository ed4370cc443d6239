"""Write a checklist back to Markdown that the importer reads as the same tree.

The export is plain Markdown a person can read and edit::

    ---
    title: Backend review
    description: |-
      What this checklist is for.
    ---

    # Backend review

    ## Section

    - [ ] Item text <!-- key: item-key; severity: must; gate: yes -->
      - A line of guidance
      - Why it matters: the rationale

    ### Group

    - [ ] …

* Front matter carries title and description (YAML, a literal block for several lines).
* The title is repeated as the one ``#`` heading, so the importer reads ``##`` as sections.
* ``##`` is a section, ``###`` a group; a section's own items come before its groups. Titles
  the importer would read as empty are written as "(untitled)".
* Every item is a ``- [ ]`` box. A trailing comment carries its key (when it has one) and any
  severity, gate or optional flag that the headings around it would not imply by themselves
  (the importer takes the comment over the headings); an item that needs neither has none.
* Each guidance line is a sub-bullet; each rationale line a ``Why it matters:`` sub-bullet. A
  guidance line that the importer would read as something else (starts with ``[``, a box,
  ``\\``, "Why:", or is a rule such as ``---``) is escaped with a leading backslash.

``parse_document(export_markdown(tree))`` gives the same sections, groups, items (text,
guidance, rationale), severities, flags and keys for any tree the importer produced. A tree
from the database round-trips too, except text the importer normalises (whitespace collapsed,
Markdown emphasis markers removed, blank guidance lines dropped).
"""

import re
from typing import TYPE_CHECKING

import yaml

from checklists.importer.inline import (
    RATIONALE_LABEL,
    RATIONALE_START,
    THEMATIC_BREAK,
    clean_item_text,
    clean_title,
    format_meta,
    starts_with_box,
)
from checklists.importer.tree import derive_flags
from checklists.parsed import ParsedChecklist, ParsedItem, ParsedSection

if TYPE_CHECKING:
    from checklists.models import TemplateVersion

_NEEDS_ESCAPE = re.compile(r"^[\[\\]")


def _one_line(text: str, empty: str) -> str:
    return " ".join((text or "").split()) or empty


def _guidance_line(line: str) -> str:
    if (
        _NEEDS_ESCAPE.match(line)
        or starts_with_box(line)
        or RATIONALE_START.match(line)
        or THEMATIC_BREAK.match(line)
    ):
        return "\\" + line
    return line


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").split("\n") if line.strip()]


def _meta(item: ParsedItem, context: list[str]) -> str:
    """The item's comment: its key, and each flag the headings would not imply by themselves."""
    severity, gate, optional = derive_flags(clean_item_text(item.text), context)
    return format_meta(
        item.key,
        item.severity if item.severity != severity else None,
        item.is_gate if item.is_gate != gate else None,
        item.optional if item.optional != optional else None,
    )


def _item(item: ParsedItem, context: list[str]) -> list[str]:
    text = _one_line(item.text, "(no text)")
    text = text if clean_item_text(text) else "(no text)"
    line = f"- [ ] {text} {_meta(item, context)}"
    out = [line.rstrip()]
    out += [f"  - {_guidance_line(text)}" for text in _lines(item.guidance)]
    out += [f"  - {RATIONALE_LABEL}: {text}" for text in _lines(item.rationale)]
    return out


def _block(items: list[ParsedItem], context: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        out += _item(item, context)
    return [*out, ""] if out else []


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so a description stays readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _front_matter(checklist: ParsedChecklist) -> list[str]:
    values = {"title": _one_line(checklist.title, "Untitled checklist")}
    description = "\n".join(line.rstrip() for line in (checklist.description or "").split("\n"))
    if description.strip():
        values["description"] = description.strip()
    dumped = yaml.dump(
        values, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000
    ).rstrip("\n")
    return ["---", dumped, "---", ""]


def _heading(text: str) -> str:
    heading = _one_line(text, "(untitled)")
    return heading if clean_title(heading) else "(untitled)"


def _section(section: ParsedSection, title: str) -> list[str]:
    """``## section`` and ``### group`` blocks; context as the importer will see it."""
    heading = _heading(section.title)
    context = [clean_title(heading), title]
    out = [f"## {heading}", "", *_block(section.items, context)]
    for group in section.groups:
        group_heading = _heading(group.title)
        group_context = [clean_title(group_heading), *context]
        out += [f"### {group_heading}", "", *_block(group.items, group_context)]
    return out


def export_markdown(checklist: ParsedChecklist) -> str:
    """The checklist as Markdown that imports back to the same tree."""
    title = _heading(checklist.title)
    out = [*_front_matter(checklist), f"# {title}", ""]
    for section in checklist.sections:
        out += _section(section, clean_title(title))
    return "\n".join(out).rstrip("\n") + "\n"


def tree_from_version(version: "TemplateVersion") -> ParsedChecklist:
    """The saved ``TemplateVersion`` as a tree (at most three queries, whatever its size).

    Sections without a parent are sections, sections with one are groups (a group of a group,
    which the models do not produce, is folded into the group above it). Items keep their
    document order (``position``) inside their section or group.
    """
    from checklists.models import Item, Section

    template = version.template
    rows = list(Section.objects.filter(version=version).order_by("position", "id"))
    nodes = {row.pk: ParsedSection(title=row.title) for row in rows}
    parents = {row.pk: row.parent_id for row in rows if row.parent_id in nodes}
    sections: list[ParsedSection] = []
    home: dict[int, ParsedSection] = {}
    for row in rows:
        top, group = _top_two(row.pk, parents)
        if group is None:
            sections.append(nodes[row.pk])
        elif group == row.pk:
            nodes[top].groups.append(nodes[row.pk])
        home[row.pk] = nodes[group if group is not None else row.pk]
    for item in Item.objects.filter(version=version).order_by("position", "id"):
        home[item.section_id].items.append(
            ParsedItem(
                text=item.text,
                guidance=item.guidance,
                rationale=item.rationale,
                severity=item.severity,
                is_gate=item.is_gate,
                optional=item.optional,
                key=item.key,
            )
        )
    return ParsedChecklist(
        title=version.title or template.title,
        description=version.description or template.description,
        sections=sections,
        source_name=version.source_name or f"{template.slug}.md",
        content_hash=version.content_hash,
        source_text=version.source_text,
    )


def _top_two(pk: int, parents: dict[int, int]) -> tuple[int, int | None]:
    """(top-level section, group directly under it or None) for the section ``pk``."""
    chain = [pk]
    while chain[-1] in parents and len(chain) <= len(parents):
        chain.append(parents[chain[-1]])
    chain.reverse()
    return chain[0], (chain[1] if len(chain) > 1 else None)
