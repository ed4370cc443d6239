"""Templates and draft editing (the admin's inlines). Only drafts can be edited."""

from django.db import transaction
from django.db.models import Max

from audit.services import record_event
from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion
from checklists.services._common import (
    clean,
    lock_version,
    record,
    require_curator,
    require_draft,
    version_repr,
)
from checklists.services.importing import validate_slug
from checklists.services.keys import new_key
from config.errors import Conflict, InvalidInput


@transaction.atomic
def template_create(*, actor, slug: str, title: str, description: str = "") -> ChecklistTemplate:
    """A new template with an empty draft v1, to be filled in the admin."""
    require_curator(actor, "create checklist templates")
    slug = validate_slug(slug)
    if ChecklistTemplate.objects.filter(slug=slug).exists():
        raise Conflict(f"A checklist with the slug '{slug}' already exists.", code="slug_taken")
    template = ChecklistTemplate(
        slug=slug, title=(title or "").strip(), description=description or ""
    )
    clean(template)
    template.save()
    version = TemplateVersion.objects.create(template=template, number=1, created_by=actor)
    record(
        actor,
        "checklist.template_created",
        version,
        after={**version_repr(version), "title": template.title},
    )
    return template


@transaction.atomic
def template_update(
    *, actor, template: ChecklistTemplate, title: str, description: str
) -> ChecklistTemplate:
    require_curator(actor, "change checklist templates")
    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    before = {"title": template.title, "description": template.description}
    template.title = (title or "").strip()
    template.description = description or ""
    clean(template)
    after = {"title": template.title, "description": template.description}
    if after != before:
        template.save(update_fields=["title", "description"])
        record_event(
            actor=actor,
            verb="checklist.template_updated",
            object_type="checklist_template",
            object_id=template.pk,
            object_repr=template.slug,
            before=before,
            after=after,
        )
    return template


def _edited(version: TemplateVersion) -> None:
    """A draft whose content was edited no longer matches the document it came from."""
    if version.content_hash:
        version.content_hash = ""
        version.save(update_fields=["content_hash"])


@transaction.atomic
def version_update(
    *, actor, version: TemplateVersion, title: str, description: str, changelog: str
) -> TemplateVersion:
    require_curator(actor, "edit checklist drafts")
    lock_version(version)
    require_draft(version, "be edited")
    before = {
        "title": version.title,
        "description": version.description,
        "changelog": version.changelog,
    }
    version.title, version.description, version.changelog = (
        title or "",
        description or "",
        changelog or "",
    )
    after = {
        "title": version.title,
        "description": version.description,
        "changelog": version.changelog,
    }
    if after != before:
        clean(version)
        version.save(update_fields=["title", "description", "changelog"])
        record(actor, "checklist.draft_updated", version, before=before, after=after)
    return version


def _section_state(section: Section) -> dict:
    return {"title": section.title, "parent": section.parent_id, "position": section.position}


@transaction.atomic
def section_save(*, actor, section: Section) -> Section:
    """Create or change a section (or group, when ``parent`` is set) of a draft."""
    require_curator(actor, "edit checklist drafts")
    version = lock_version(TemplateVersion.objects.get(pk=section.version_id))
    require_draft(version, "be edited")
    if section.parent_id is not None:
        parent = Section.objects.get(pk=section.parent_id)
        if (
            parent.version_id != version.pk
            or parent.parent_id is not None
            or parent.pk == section.pk
        ):
            raise InvalidInput("A group's parent must be a top-level section of the same version.")
        if section.pk and Section.objects.filter(parent_id=section.pk).exists():
            raise InvalidInput(
                f"'{section.title}' has groups of its own, so it cannot become a group."
            )
    before = _section_state(Section.objects.get(pk=section.pk)) if section.pk else {}
    if not section.pk and not section.position:
        section.position = (version.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    clean(section)
    section.save()
    _edited(version)
    record(
        actor,
        "checklist.section_saved",
        version,
        before=before,
        after={"section": section.pk, **_section_state(section)},
    )
    return section


@transaction.atomic
def section_delete(*, actor, section: Section) -> None:
    """Delete a draft's section with its groups and their items."""
    require_curator(actor, "edit checklist drafts")
    version = lock_version(TemplateVersion.objects.get(pk=section.version_id))
    require_draft(version, "be edited")
    before = {"section": section.pk, **_section_state(section)}
    section.delete()
    _edited(version)
    record(actor, "checklist.section_deleted", version, before=before)


ITEM_FIELDS = (
    "key",
    "text",
    "guidance",
    "rationale",
    "severity",
    "is_gate",
    "optional",
    "position",
)


def _item_state(item: Item) -> dict:
    return {"section": item.section_id, **{name: getattr(item, name) for name in ITEM_FIELDS}}


@transaction.atomic
def item_save(*, actor, item: Item) -> Item:
    """Create or change an item of a draft; a new item without a key gets one."""
    require_curator(actor, "edit checklist drafts")
    section = Section.objects.get(pk=item.section_id)
    if item.pk and item.version_id and item.version_id != section.version_id:
        raise InvalidInput("An item cannot move to another version.")
    item.version_id = section.version_id
    version = lock_version(TemplateVersion.objects.get(pk=section.version_id))
    require_draft(version, "be edited")
    before = _item_state(Item.objects.get(pk=item.pk)) if item.pk else {}
    if not item.key:
        taken = set(version.items.values_list("key", flat=True))
        item.key = new_key(item.text, taken)
    if not item.pk and not item.position:
        item.position = (version.items.aggregate(m=Max("position"))["m"] or 0) + 1
    clean(item)
    item.save()
    _edited(version)
    record(
        actor,
        "checklist.item_saved",
        version,
        before=before,
        after={"item": item.pk, **_item_state(item)},
    )
    return item


@transaction.atomic
def item_delete(*, actor, item: Item) -> None:
    require_curator(actor, "edit checklist drafts")
    version = lock_version(TemplateVersion.objects.get(pk=item.version_id))
    require_draft(version, "be edited")
    before = {"item": item.pk, **_item_state(item)}
    item.delete()
    _edited(version)
    record(actor, "checklist.item_deleted", version, before=before)
