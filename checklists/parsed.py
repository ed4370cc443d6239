"""The importer's output: a checklist document as a tree, before anything is written.

``checklists.importer.parse_document`` builds it from Markdown; ``checklists.services`` saves it
as a draft version; ``checklists.exporter`` writes a version back to Markdown that parses to the
same tree.
"""

from dataclasses import dataclass, field


@dataclass
class ParsedItem:
    text: str
    guidance: str = ""
    rationale: str = ""
    severity: str = "should"  # must / should / could (checklists.models.Severity)
    is_gate: bool = False
    optional: bool = False
    line: int = 0  # 1-based line in the source document
    key: str = ""  # an explicit stable key (exports carry them); empty = assign one


@dataclass
class ParsedSection:
    """A section (from a heading) or, inside a section, a group (one level only)."""

    title: str
    line: int = 0
    items: list[ParsedItem] = field(default_factory=list)
    groups: list["ParsedSection"] = field(default_factory=list)

    def all_items(self) -> list[ParsedItem]:
        found = list(self.items)
        for group in self.groups:
            found.extend(group.items)
        return found


@dataclass
class ParsedChecklist:
    title: str
    description: str
    sections: list[ParsedSection]
    source_name: str
    content_hash: str  # sha256 of the normalised source text
    source_text: str = ""
    warnings: list[str] = field(default_factory=list)

    def all_items(self) -> list[ParsedItem]:
        return [item for section in self.sections for item in section.all_items()]
