"""Checklist templates, their versions, sections (one level of groups) and items."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Severity(models.TextChoices):
    MUST = "must", "Must"
    SHOULD = "should", "Should"
    COULD = "could", "Could"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class ChecklistTemplate(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "slug"]

    def __str__(self) -> str:
        return self.title or self.slug


class TemplateVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=VersionStatus.PUBLISHED)


class TemplateVersion(models.Model):
    """One version of a template. Published versions are immutable (enforced by the services
    and the admin); editing means a new draft copied from the latest version."""

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    changelog = models.TextField(blank=True)
    source_text = models.TextField(blank=True)
    source_name = models.CharField(max_length=255, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TemplateVersionQuerySet.as_manager()

    class Meta:
        ordering = ["template", "number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(status="draft"),
                name="one_draft_per_template",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.template.slug} v{self.number} ({self.status})"

    @property
    def picker_label(self) -> str:
        """How people pick the version: titles may repeat, slug and number do not."""
        return f"{self.template.title} ({self.template.slug}) v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def display_title(self) -> str:
        return self.title or self.template.title


class Section(models.Model):
    """A section of a version; a section whose ``parent`` is set is a group (one level only)."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="groups"
    )
    title = models.CharField(max_length=500)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "position", "id"]
        indexes = [models.Index(fields=["version", "position"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_group(self) -> bool:
        return self.parent_id is not None


class Item(models.Model):
    """A checklist item. ``key`` is stable across versions while its meaning is the same."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="items")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=80)
    text = models.TextField()
    guidance = models.TextField(blank=True)
    rationale = models.TextField(blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.SHOULD)
    is_gate = models.BooleanField(default=False)
    optional = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="item_key_unique_in_version"),
        ]
        indexes = [models.Index(fields=["version", "position"])]

    def __str__(self) -> str:
        return self.text[:80]
