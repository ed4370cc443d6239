"""Reads of the checklist library shared by the browser, the admin, the API and commands."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.permissions import can_read_published_templates, is_curator
from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion, VersionStatus
from checklists.parsed import ParsedChecklist

VISIBLE_TO_READERS = (VersionStatus.PUBLISHED, VersionStatus.RETIRED)
COMPARED_FIELDS = ("text", "guidance", "rationale", "severity", "is_gate", "optional")


def _count_items(version_ref: str, **filters) -> Coalesce:
    counted = (
        Item.objects.filter(version=OuterRef(version_ref), **filters)
        .order_by()
        .values("version")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def published_templates() -> QuerySet[ChecklistTemplate]:
    """Templates with at least one published version, annotated (one query) with the latest
    published version's ``latest_id``, ``latest_number``, ``latest_published_at``,
    ``item_count``, ``gate_count`` and ``must_count``."""
    latest = TemplateVersion.objects.filter(
        template=OuterRef("pk"), status=VersionStatus.PUBLISHED
    ).order_by("-number")
    return (
        ChecklistTemplate.objects.filter(Exists(latest))
        .annotate(
            latest_id=Subquery(latest.values("pk")[:1]),
            latest_number=Subquery(latest.values("number")[:1]),
            latest_published_at=Subquery(latest.values("published_at")[:1]),
        )
        .annotate(
            item_count=_count_items("latest_id"),
            gate_count=_count_items("latest_id", is_gate=True),
            must_count=_count_items("latest_id", severity="must"),
        )
        .order_by("title", "slug")
    )


def templates_visible_to(user) -> QuerySet[ChecklistTemplate]:
    """Templates with at least one version ``user`` may see."""
    versions = versions_visible_to(user)
    return ChecklistTemplate.objects.filter(pk__in=versions.values("template_id"))


def versions_visible_to(user) -> QuerySet[TemplateVersion]:
    """Curators see drafts too; everyone signed in sees published and retired versions."""
    if not can_read_published_templates(user):
        return TemplateVersion.objects.none()
    versions = TemplateVersion.objects.select_related("template")
    if is_curator(user):
        return versions
    return versions.filter(status__in=VISIBLE_TO_READERS)


def latest_published(template: ChecklistTemplate) -> TemplateVersion | None:
    return template.versions.published().order_by("-number").first()


# --- one version as a tree -----------------------------------------------------------------


@dataclass
class SectionNode:
    section: Section
    items: list[Item] = field(default_factory=list)
    groups: list["SectionNode"] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.section.title

    @property
    def all_items(self) -> list[Item]:
        return self.items + [item for group in self.groups for item in group.items]

    @property
    def item_count(self) -> int:
        return len(self.all_items)


@dataclass
class VersionTree:
    version: TemplateVersion
    sections: list[SectionNode]

    @property
    def items(self) -> list[Item]:
        return [item for node in self.sections for item in node.all_items]

    @property
    def groups(self) -> list[SectionNode]:
        return [group for node in self.sections for group in node.groups]

    def summary(self) -> dict:
        items = self.items
        return {
            "sections": len(self.sections),
            "groups": len(self.groups),
            "items": len(items),
            "gate": sum(item.is_gate for item in items),
            "optional": sum(item.optional for item in items),
            "severities": {
                severity: sum(item.severity == severity for item in items)
                for severity in ("must", "should", "could")
            },
        }


def version_tree(version: TemplateVersion) -> VersionTree:
    """Sections with their groups and items, in document order: two queries at any size."""
    sections = list(Section.objects.filter(version=version).order_by("position", "id"))
    nodes = {section.pk: SectionNode(section) for section in sections}
    roots = []
    for section in sections:
        node = nodes[section.pk]
        if section.parent_id is None:
            roots.append(node)
        else:
            nodes[section.parent_id].groups.append(node)
    for item in Item.objects.filter(version=version).order_by("position", "id"):
        item.section = nodes[item.section_id].section
        nodes[item.section_id].items.append(item)
    return VersionTree(version=version, sections=roots)


# --- comparing two versions ----------------------------------------------------------------


@dataclass
class ChangedItem:
    old: Item
    new: Item
    fields: list[str]

    @property
    def key(self) -> str:
        return self.new.key


@dataclass
class MovedItem:
    old: Item
    new: Item
    old_section: str
    new_section: str


@dataclass
class Comparison:
    old: TemplateVersion
    new: TemplateVersion
    added: list[Item]
    removed: list[Item]
    changed: list[ChangedItem]
    moved: list[MovedItem]  # same key, other section (may also be changed)
    unchanged: int

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.moved)


def section_path(item: Item) -> str:
    section = item.section
    if section.parent_id is not None:
        return f"{section.parent.title} › {section.title}"
    return section.title


def _items_by_key(version: TemplateVersion) -> dict[str, Item]:
    items = Item.objects.filter(version=version).select_related("section__parent")
    found = {}
    for item in items.order_by("position", "id"):
        item.section_label = section_path(item)
        found[item.key] = item
    return found


def version_compare(old: TemplateVersion, new: TemplateVersion) -> Comparison:
    """Items added, removed and changed from ``old`` to ``new``, matched by stable key."""
    before, after = _items_by_key(old), _items_by_key(new)
    added = [item for key, item in after.items() if key not in before]
    removed = [item for key, item in before.items() if key not in after]
    changed, moved, unchanged = [], [], 0
    for key, item in after.items():
        previous = before.get(key)
        if previous is None:
            continue
        fields = [
            name for name in COMPARED_FIELDS if getattr(previous, name) != getattr(item, name)
        ]
        if fields:
            changed.append(ChangedItem(old=previous, new=item, fields=fields))
        if normalise(previous.section_label) != normalise(item.section_label):
            moved.append(MovedItem(previous, item, previous.section_label, item.section_label))
        elif not fields:
            unchanged += 1
    return Comparison(old, new, added, removed, changed, moved, unchanged)


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def drafts() -> QuerySet[TemplateVersion]:
    return TemplateVersion.objects.filter(status=VersionStatus.DRAFT).select_related("template")


def version_counts() -> QuerySet[TemplateVersion]:
    """Versions annotated with ``item_count`` and ``gate_count`` (admin lists)."""
    return TemplateVersion.objects.select_related("template").annotate(
        item_count=Count("items", distinct=True),
        gate_count=Count("items", filter=Q(items__is_gate=True), distinct=True),
    )


def version_markdown(version: TemplateVersion) -> str:
    """The version as Markdown that imports back to the same structure and keys."""
    from checklists.exporter import export_markdown, tree_from_version

    return export_markdown(tree_from_version(version))


def export_filename(version: TemplateVersion) -> str:
    return f"{version.template.slug}-v{version.number}.md"


# --- imports: what a parsed document holds and what importing it would do -------------------


def parsed_summary(tree: ParsedChecklist) -> dict:
    """Counts of a parsed document (the import preview and ``import_checklist --dry-run``)."""
    items = tree.all_items()
    return {
        "sections": len(tree.sections),
        "groups": sum(len(section.groups) for section in tree.sections),
        "items": len(items),
        "gate": sum(bool(item.is_gate) for item in items),
        "optional": sum(bool(item.optional) for item in items),
        "severities": {
            severity: sum(item.severity == severity for item in items)
            for severity in ("must", "should", "could")
        },
    }


@dataclass
class ImportPlan:
    slug: str
    template: ChecklistTemplate | None
    same: TemplateVersion | None  # an identical version: importing writes nothing
    draft: TemplateVersion | None  # a draft whose content importing replaces
    number: int  # the version number the import writes

    @property
    def description(self) -> str:
        if self.same is not None:
            return (
                f"Identical to v{self.same.number} ({self.same.status}) of '{self.slug}': "
                "nothing will be written."
            )
        if self.template is None:
            return f"Creates the checklist '{self.slug}' with draft v1."
        if self.draft is not None:
            return f"Replaces the content of draft v{self.draft.number} of '{self.slug}'."
        return f"Adds draft v{self.number} to '{self.slug}'."


def import_plan(*, slug: str, content_hash: str) -> ImportPlan:
    template = ChecklistTemplate.objects.filter(slug=slug).first()
    if template is None:
        return ImportPlan(slug, None, None, None, 1)
    versions = list(template.versions.order_by("-number"))
    same = next((v for v in versions if v.content_hash == content_hash), None)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    next_number = versions[0].number + 1 if versions else 1
    return ImportPlan(slug, template, same, draft, draft.number if draft else next_number)
