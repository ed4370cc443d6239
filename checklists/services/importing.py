"""Importing a Markdown checklist document as a draft version.

Re-importing over an existing draft *replaces* that draft's content (same version number):
curators iterate on a document, and an import is an explicit request for "this document".
An identical document (same content hash as any version of the template) writes nothing.
"""

from dataclasses import dataclass
from pathlib import PurePath

from django.db import transaction
from django.utils.text import slugify

from checklists.importer import parse_document
from checklists.models import (
    ChecklistTemplate,
    Item,
    Section,
    Severity,
    TemplateVersion,
    VersionStatus,
)
from checklists.parsed import ParsedChecklist, ParsedItem
from checklists.services._common import record, require_curator, version_repr
from checklists.services.keys import SLUG_RE, assign_keys
from checklists.services.versions import version_publish
from config.errors import InvalidInput

SLUG_MAX = ChecklistTemplate._meta.get_field("slug").max_length
SECTION_TITLE_MAX = Section._meta.get_field("title").max_length
TITLE_MAX = ChecklistTemplate._meta.get_field("title").max_length
# Slugs that name a page or an API action under /checklists/ rather than a checklist.
RESERVED_SLUGS = frozenset({"import"})


@dataclass(frozen=True)
class ImportResult:
    template: ChecklistTemplate
    version: TemplateVersion
    created: bool  # False: an identical version already existed and nothing was written
    replaced_draft: bool = False  # True: an existing draft's content was replaced
    warnings: tuple[str, ...] = ()  # e.g. another checklist has the same title


def title_clashes(template: ChecklistTemplate) -> tuple[str, ...]:
    """A warning per other checklist with the same title: people pick checklists by title, so
    they then need the slug and version to tell them apart."""
    others = (
        ChecklistTemplate.objects.filter(title__iexact=template.title)
        .exclude(pk=template.pk)
        .order_by("slug")
        .values_list("slug", flat=True)
    )
    return tuple(
        f"Another checklist has the same title '{template.title}': '{slug}' (this one is "
        f"'{template.slug}'). People tell them apart by slug and version; to add a version to "
        f"that checklist instead, import under the slug '{slug}'."
        for slug in others
    )


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip()
    if not slug or len(slug) > SLUG_MAX or not SLUG_RE.match(slug):
        raise InvalidInput(
            f"'{slug}' is not a valid checklist slug: use 1–{SLUG_MAX} letters, digits, "
            "hyphens or underscores.",
            details={"slug": slug},
        )
    if slug.lower() in RESERVED_SLUGS:
        raise InvalidInput(
            f"'{slug}' is reserved (it names the import page); choose another checklist slug.",
            details={"slug": slug},
        )
    return slug


def default_slug(tree: ParsedChecklist, source_name: str) -> str:
    for candidate in (tree.title, PurePath(source_name or "").stem):
        slug = slugify(candidate or "")[:SLUG_MAX].strip("-_")
        if slug in RESERVED_SLUGS:
            slug = f"{slug}-checklist"
        if slug:
            return slug
    raise InvalidInput(
        f"{source_name}: cannot derive a slug from the title or the file name; give one."
    )


def _previous_items(version: TemplateVersion | None) -> list[tuple[str, str, str, str]]:
    if version is None:
        return []
    rows = Item.objects.filter(version=version).values_list(
        "key", "text", "section__title", "section__parent__title"
    )
    # For a grouped item the section is the group: report (section, group).
    return [
        (key, text, parent_title, title) if parent_title else (key, text, title, "")
        for key, text, title, parent_title in rows
    ]


def _write_tree(version: TemplateVersion, tree: ParsedChecklist, keys: list[str]) -> int:
    """Save sections, then groups, then items: three bulk inserts whatever the size."""
    position = 0
    tops, groups_by_top = [], []
    for parsed in tree.sections:
        position += 1
        tops.append(
            Section(version=version, title=parsed.title[:SECTION_TITLE_MAX], position=position)
        )
        group_rows = []
        for parsed_group in parsed.groups:
            position += 1
            group_rows.append(
                Section(
                    version=version, title=parsed_group.title[:SECTION_TITLE_MAX], position=position
                )
            )
        groups_by_top.append(group_rows)
    Section.objects.bulk_create(tops)
    for top, group_rows in zip(tops, groups_by_top, strict=True):
        for group in group_rows:
            group.parent = top
    Section.objects.bulk_create([g for rows in groups_by_top for g in rows])

    items, keys_iter, position = [], iter(keys), 0

    def add(section: Section, parsed_items: list[ParsedItem]) -> None:
        nonlocal position
        for parsed_item in parsed_items:
            position += 1
            severity = (
                parsed_item.severity if parsed_item.severity in Severity.values else Severity.SHOULD
            )
            items.append(
                Item(
                    version=version,
                    section=section,
                    key=next(keys_iter),
                    text=parsed_item.text,
                    guidance=parsed_item.guidance or "",
                    rationale=parsed_item.rationale or "",
                    severity=severity,
                    is_gate=bool(parsed_item.is_gate),
                    optional=bool(parsed_item.optional),
                    position=position,
                )
            )

    for parsed, top, group_rows in zip(tree.sections, tops, groups_by_top, strict=True):
        add(top, parsed.items)
        for parsed_group, group in zip(parsed.groups, group_rows, strict=True):
            add(group, parsed_group.items)
    Item.objects.bulk_create(items)
    return len(items)


# --- import --------------------------------------------------------------------------------


@transaction.atomic
def checklist_import(
    *,
    actor,
    data: bytes | str,
    source_name: str,
    slug: str | None = None,
    publish: bool = False,
    changelog: str = "",
) -> ImportResult:
    """Parse a Markdown checklist and save it as a draft (optionally published at once).

    An identical document (same content hash as any version of the template) creates
    nothing and returns that version with ``created=False`` (with ``publish=True`` an identical
    *draft* is published). An existing draft is replaced. On any error nothing is written.
    """
    require_curator(actor, "import checklists")
    tree = parse_document(data, source_name=source_name)
    if not tree.all_items():
        raise InvalidInput(f"{source_name}: the document contains no checklist items.")
    slug = validate_slug(slug) if slug else default_slug(tree, source_name)

    template = ChecklistTemplate.objects.select_for_update().filter(slug=slug).first()
    template_created = template is None
    if template is None:
        template = ChecklistTemplate(
            slug=slug,
            title=(tree.title or slug)[:TITLE_MAX],
            description=tree.description or "",
        )
        template.full_clean()
        template.save()
        versions = []
    else:
        versions = list(template.versions.order_by("-number"))
        same = next((v for v in versions if v.content_hash == tree.content_hash), None)
        if same is not None:
            if publish and same.status == VersionStatus.DRAFT:
                version_publish(actor=actor, version=same, changelog=changelog)
            return ImportResult(
                template=template, version=same, created=False, warnings=title_clashes(template)
            )

    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    earlier = [v for v in versions if v is not draft]
    key_source = earlier[0] if earlier else draft
    keys = assign_keys(tree, _previous_items(key_source))

    before = {}
    if draft is not None:
        before = {**version_repr(draft), "items": draft.items.count()}
        draft.items.all().delete()
        draft.sections.all().delete()
        version = draft
    else:
        number = (versions[0].number + 1) if versions else 1
        version = TemplateVersion(template=template, number=number, created_by=actor)
    version.status = VersionStatus.DRAFT
    version.title = (tree.title or "")[: TemplateVersion._meta.get_field("title").max_length]
    version.description = tree.description or ""
    version.changelog = changelog or version.changelog
    version.source_text = tree.source_text or ""
    version.source_name = (source_name or "")[:255]
    version.content_hash = tree.content_hash
    version.save()
    count = _write_tree(version, tree, keys)
    record(
        actor,
        "checklist.imported",
        version,
        before=before,
        after={
            **version_repr(version),
            "items": count,
            "source_name": version.source_name,
            "template_created": template_created,
            "replaced_draft": draft is not None,
        },
    )
    if publish:
        version_publish(actor=actor, version=version, changelog=changelog)
    return ImportResult(
        template=template,
        version=version,
        created=True,
        replaced_draft=draft is not None,
        warnings=title_clashes(template),
    )
