"""Projects, specs, reviews, answers, findings, sign-offs and overrides.

Invariants live here as database constraints; rules across rows live in ``reviews.services``,
the only writers.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from checklists.models import Item, Section, TemplateVersion

USER = settings.AUTH_USER_MODEL


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    AUTHOR = "author", "Author"
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Lead"


class Project(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    required_signoffs = models.PositiveSmallIntegerField(default=1)
    important_findings_block = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(required_signoffs__gte=1) & Q(required_signoffs__lte=20),
                name="project_required_signoffs_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    can_override = models.BooleanField(
        default=False, help_text="Leads only: may override a gate rule with a justification."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(can_override=False) | Q(role="lead"), name="override_only_for_leads"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.project} ({self.role})"


class Spec(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="specs")
    title = models.CharField(max_length=300)
    link = models.URLField(max_length=1000, blank=True)
    description = models.TextField(blank=True)
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="specs")
    revision_label = models.CharField(max_length=100, default="r1")
    revision_number = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class SpecRevision(models.Model):
    spec = models.ForeignKey(Spec, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=100)
    link = models.URLField(max_length=1000, blank=True)
    note = models.TextField(blank=True)
    posted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["spec", "number"]
        constraints = [
            models.UniqueConstraint(fields=["spec", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.spec} @ {self.label}"


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATES = (ReviewState.DRAFT, ReviewState.IN_REVIEW, ReviewState.CHANGES_REQUESTED)


class Review(models.Model):
    spec = models.ForeignKey(Spec, on_delete=models.PROTECT, related_name="reviews")
    state = models.CharField(max_length=20, choices=ReviewState.choices, default=ReviewState.DRAFT)
    template_versions = models.ManyToManyField(
        TemplateVersion, through="ReviewTemplate", related_name="reviews"
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change to the reviewed content (answers, findings, revision, templates):
    # overrides lapse and cached fragments are invalidated when it moves.
    content_version = models.PositiveIntegerField(default=0)
    # Answer counts by verdict, kept by the services that write answers (``progress_refresh``
    # after bulk changes, a +1/-1 on a single save), so lists and the dashboard show progress
    # without aggregating every answer of every listed review.
    answers_pass = models.PositiveIntegerField(default=0)
    answers_fail = models.PositiveIntegerField(default=0)
    answers_na = models.PositiveIntegerField(default=0)
    answers_unanswered = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state"]),
            # Lists are newest first: a page is read off the index instead of sorting them all.
            models.Index(fields=["-created_at", "-id"], name="review_newest_first"),
        ]

    def __str__(self) -> str:
        return f"Review #{self.pk} of {self.spec}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_read_only(self) -> bool:
        return self.state in (ReviewState.APPROVED, ReviewState.WITHDRAWN)


class ReviewTemplate(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="review_templates")
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["review", "position"]
        constraints = [
            models.UniqueConstraint(fields=["review", "version"], name="review_template_unique")
        ]

    def __str__(self) -> str:
        return f"review {self.review_id} · version {self.version_id}"


class Assignment(models.Model):
    """A reviewer assigned to a whole review (``section`` empty) or to one section of it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="assignments")
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.CASCADE)
    assigned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "user", "section"], name="assignment_unique_section"
            ),
            models.UniqueConstraint(
                fields=["review", "user"],
                condition=Q(section__isnull=True),
                name="assignment_unique_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on review {self.review_id}"


class Verdict(models.TextChoices):
    UNANSWERED = "unanswered", "Unanswered"
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    NA = "na", "Not applicable"


class Response(models.Model):
    """One answer per review × item; ``version`` moves on every change (optimistic locking)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="responses")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="responses")
    verdict = models.CharField(max_length=12, choices=Verdict.choices, default=Verdict.UNANSWERED)
    note = models.TextField(blank=True)
    needs_recheck = models.BooleanField(default=False)
    answered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Set when the system (not a person) put the answer back to re-check, naming the event that
    # did it ("revision r2"); ``answered_by`` is then empty. A person's answer clears it.
    reset_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["review", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["review", "item"], name="response_unique"),
        ]
        indexes = [models.Index(fields=["review", "verdict"])]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.verdict}"


class FindingSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    IMPORTANT = "important", "Important"
    SUGGESTION = "suggestion", "Suggestion"
    STRENGTH = "strength", "Strength"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    WONT_FIX = "wont_fix", "Won't fix"


class Finding(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="findings")
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    severity = models.CharField(max_length=12, choices=FindingSeverity.choices)
    title = models.CharField(max_length=300)
    location = models.CharField(max_length=500, blank=True)
    impact = models.TextField(blank=True)
    recommendation = models.TextField(blank=True)
    verification = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    resolution_note = models.TextField(blank=True)
    raised_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    resolved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["review", "created_at", "id"]
        indexes = [models.Index(fields=["review", "status", "severity"])]

    def __str__(self) -> str:
        return self.title


class SignOffRole(models.TextChoices):
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Lead"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"


class SignOff(models.Model):
    """A reviewer's "reviewed" or a lead's decision, with the digest of what it covered."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="signoffs")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=SignOffRole.choices)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    digest = models.CharField(max_length=64)
    stale = models.BooleanField(default=False)
    stale_reason = models.CharField(max_length=300, blank=True)
    stale_event_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["review", "created_at", "id"]
        constraints = [
            # One current (not stale) reviewer sign-off per person per review.
            models.UniqueConstraint(
                fields=["review", "user", "role"],
                condition=Q(stale=False, role="reviewer"),
                name="one_current_reviewer_signoff",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.decision} ({'stale' if self.stale else 'current'})"


class GateRule(models.TextChoices):
    GATE_ITEMS = "gate_items", "Every gate item passes (or is N/A with a note)"
    MUST_ITEMS = "must_items", "Every must item is answered; N/A on required items has a note"
    FINDINGS = "blocking_findings", "No blocking finding is open"
    SIGNOFFS = "signoffs", "Enough current reviewer sign-offs"
    NOT_AUTHOR = "not_author", "The approver is not the spec's author or a revision poster"


OVERRIDABLE_RULES = (
    GateRule.GATE_ITEMS,
    GateRule.MUST_ITEMS,
    GateRule.FINDINGS,
    GateRule.SIGNOFFS,
)


class Override(models.Model):
    """A lead's justified override of one gate rule. Never deleted; lapses on content change
    (``content_version`` moves) or when ``expires_at`` passes."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="overrides")
    rule = models.CharField(max_length=20, choices=GateRule.choices)
    justification = models.TextField()
    expires_at = models.DateTimeField(null=True, blank=True)
    granted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    content_version = models.PositiveIntegerField()

    class Meta:
        ordering = ["review", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(justification=""), name="override_justified"),
            models.CheckConstraint(condition=~Q(rule="not_author"), name="override_not_author"),
        ]

    def __str__(self) -> str:
        return f"override of {self.rule} on review {self.review_id}"

    def is_active(self, review: Review, now=None) -> bool:
        now = now or timezone.now()
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return self.content_version == review.content_version
