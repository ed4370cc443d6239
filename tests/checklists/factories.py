"""Factories for the checklist library, and the seed documents' location."""

from pathlib import Path

import factory
from django.conf import settings
from django.utils import timezone

from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion, VersionStatus

SEEDS_DIR = Path(settings.BASE_DIR).parent / "shared" / "seeds"
SEED_FILES = sorted(SEEDS_DIR.glob("*.txt"))

SMALL_DOC = """\
---
title: Small API checklist
description: A short checklist used by the tests.
---

## Security

- Are secrets kept out of the repository?
- Is every input validated at the boundary?

## API design

**Contracts**:
- Are all endpoints documented with method and path?
- Are error bodies specified?

**Versioning**:
- Is the versioning strategy specified?

## Quality Gate Checklist

- [ ] Does the spec name an owner?
- [ ] Are acceptance criteria written down?
"""


class ChecklistTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChecklistTemplate

    slug = factory.Sequence(lambda n: f"checklist-{n}")
    title = factory.Sequence(lambda n: f"Checklist {n}")
    description = "A checklist made by a factory."


def _next_number(version) -> int:
    last = TemplateVersion.objects.filter(template=version.template).order_by("-number").first()
    return last.number + 1 if last else 1


class TemplateVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemplateVersion

    template = factory.SubFactory(ChecklistTemplateFactory)
    number = factory.LazyAttribute(_next_number)
    status = VersionStatus.PUBLISHED
    published_at = factory.LazyAttribute(
        lambda v: timezone.now() if v.status != VersionStatus.DRAFT else None
    )


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    version = factory.SubFactory(TemplateVersionFactory)
    title = factory.Sequence(lambda n: f"Section {n}")
    position = factory.Sequence(lambda n: n + 1)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    section = factory.SubFactory(SectionFactory)
    version = factory.LazyAttribute(lambda item: item.section.version)
    key = factory.Sequence(lambda n: f"item-{n}")
    text = factory.Sequence(lambda n: f"Is requirement {n} specified?")
    severity = "should"
    position = factory.Sequence(lambda n: n + 1)


def build_version(
    *,
    template=None,
    status=VersionStatus.PUBLISHED,
    sections=2,
    groups=1,
    items=3,
    key_prefix="k",
) -> TemplateVersion:
    """A version with ``sections`` sections, each with ``items`` direct items and ``groups``
    groups of ``items`` items. Keys are ``{key_prefix}-{n}``, texts "Item {n}"."""
    version = TemplateVersionFactory(template=template or ChecklistTemplateFactory(), status=status)
    position, n, rows = 0, 0, []
    for s in range(sections):
        position += 1
        top = Section.objects.create(version=version, title=f"Section {s + 1}", position=position)
        targets = [top]
        for g in range(groups):
            position += 1
            targets.append(
                Section.objects.create(
                    version=version, parent=top, title=f"Group {s + 1}.{g + 1}", position=position
                )
            )
        for target in targets:
            for _ in range(items):
                n += 1
                rows.append(
                    Item(
                        version=version,
                        section=target,
                        key=f"{key_prefix}-{n}",
                        text=f"Item {n}",
                        severity=("must", "should", "could")[n % 3],
                        is_gate=n % 5 == 0,
                        optional=n % 7 == 0,
                        position=n,
                    )
                )
    Item.objects.bulk_create(rows)
    return version
