"""Version transitions: publish, retire, new draft (a copy with the same keys), discard."""

from django.db import transaction
from django.utils import timezone

from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion, VersionStatus
from checklists.services._common import (
    lock_version,
    record,
    require_curator,
    require_draft,
    version_repr,
)
from config.errors import Conflict, InvalidInput


def can_publish(version: TemplateVersion) -> tuple[bool, str]:
    if version.status != VersionStatus.DRAFT:
        return False, f"version {version.number} is {version.status}, not a draft"
    if not version.items.exists():
        return False, f"version {version.number} is empty: add at least one item"
    return True, ""


def can_retire(version: TemplateVersion) -> tuple[bool, str]:
    if version.status != VersionStatus.PUBLISHED:
        return (
            False,
            f"version {version.number} is {version.status}; only a published version can be retired",
        )
    return True, ""


def can_new_draft(template: ChecklistTemplate) -> tuple[bool, str]:
    draft = template.versions.filter(status=VersionStatus.DRAFT).values_list("number", flat=True)
    if draft:
        return (
            False,
            f"version {draft[0]} of '{template.slug}' is already a draft; edit or publish it",
        )
    return True, ""


@transaction.atomic
def version_publish(*, actor, version: TemplateVersion, changelog: str = "") -> TemplateVersion:
    require_curator(actor, "publish checklist versions")
    lock_version(version)
    ok, why = can_publish(version)
    if not ok:
        raise Conflict(
            f"Cannot publish '{version.template.slug}': {why}.", details={"status": version.status}
        )
    before = version_repr(version)
    version.status = VersionStatus.PUBLISHED
    if changelog:
        version.changelog = changelog
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["status", "changelog", "published_at", "published_by"])
    record(
        actor,
        "checklist.published",
        version,
        before=before,
        after={**version_repr(version), "changelog": version.changelog},
    )
    return version


@transaction.atomic
def version_retire(*, actor, version: TemplateVersion) -> TemplateVersion:
    require_curator(actor, "retire checklist versions")
    lock_version(version)
    ok, why = can_retire(version)
    if not ok:
        raise Conflict(
            f"Cannot retire '{version.template.slug}': {why}.", details={"status": version.status}
        )
    before = version_repr(version)
    version.status = VersionStatus.RETIRED
    version.save(update_fields=["status"])
    record(actor, "checklist.retired", version, before=before, after=version_repr(version))
    return version


def _copy_content(source: TemplateVersion, target: TemplateVersion) -> int:
    """Copy sections, groups and items (same keys) in three bulk inserts."""
    sections = list(Section.objects.filter(version=source).order_by("position", "id"))
    mapping: dict[int, Section] = {}
    tops = [s for s in sections if s.parent_id is None]
    groups = [s for s in sections if s.parent_id is not None]
    for row in tops:
        mapping[row.pk] = Section(version=target, title=row.title, position=row.position)
    Section.objects.bulk_create([mapping[row.pk] for row in tops])
    for row in groups:
        mapping[row.pk] = Section(
            version=target, parent=mapping[row.parent_id], title=row.title, position=row.position
        )
    Section.objects.bulk_create([mapping[row.pk] for row in groups])
    items = [
        Item(
            version=target,
            section=mapping[item.section_id],
            key=item.key,
            text=item.text,
            guidance=item.guidance,
            rationale=item.rationale,
            severity=item.severity,
            is_gate=item.is_gate,
            optional=item.optional,
            position=item.position,
        )
        for item in Item.objects.filter(version=source).order_by("position", "id")
    ]
    Item.objects.bulk_create(items)
    return len(items)


@transaction.atomic
def version_new_draft(
    *, actor, template: ChecklistTemplate, from_version: TemplateVersion | None = None
) -> TemplateVersion:
    """A new draft copied (same keys) from ``from_version`` or the template's latest version."""
    require_curator(actor, "create checklist drafts")
    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    ok, why = can_new_draft(template)
    if not ok:
        raise Conflict(f"Cannot create a new draft: {why}.", code="draft_exists")
    latest = template.versions.order_by("-number").first()
    source = from_version or latest
    if source is not None and source.template_id != template.pk:
        raise InvalidInput(f"Version {source} does not belong to '{template.slug}'.")
    version = TemplateVersion(
        template=template,
        number=(latest.number + 1) if latest else 1,
        status=VersionStatus.DRAFT,
        title=source.title if source else "",
        description=source.description if source else "",
        created_by=actor,
    )
    version.save()
    count = _copy_content(source, version) if source else 0
    record(
        actor,
        "checklist.draft_created",
        version,
        after={
            **version_repr(version),
            "from_number": source.number if source else None,
            "items": count,
        },
    )
    return version


@transaction.atomic
def version_discard(*, actor, version: TemplateVersion) -> None:
    """Delete a draft (never a published or retired version)."""
    require_curator(actor, "discard checklist drafts")
    lock_version(version)
    require_draft(version, "be discarded")
    before = version_repr(version)
    record(actor, "checklist.draft_discarded", version, before=before)
    version.items.all().delete()
    version.sections.all().delete()
    version.delete()
