"""Reads shared by the browser, the API and the report. Each declares its joins, so the number
of queries does not grow with the number of items or reviews."""

from collections import defaultdict

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet

from audit.models import Event
from checklists.models import Section
from reviews.gate import approvable_by
from reviews.models import (
    OPEN_STATES,
    Assignment,
    Finding,
    Response,
    Review,
    ReviewState,
    ReviewTemplate,
    Role,
    SignOff,
    Spec,
    Verdict,
)
from reviews.permissions import reviews_visible_to, specs_visible_to
from reviews.timeline import EVENT_FIELDS as TIMELINE_FIELDS
from reviews.timeline import entries as timeline_entries
from reviews.timeline import with_names

# Events about these objects are read by the project's leads only (a webhook's URL is a
# credential; its events carry its origin only, older ones the whole URL).
LEAD_ONLY_EVENT_OBJECTS = ("webhook",)


def project_events_scope(member_project_ids, lead_project_ids) -> Q:
    """Events of the projects a user is a member of, less those only the projects' leads
    read. Every list of a project's events (API, dashboard) filters with it; review timelines
    hold events of one review, never one of these."""
    return Q(project_id__in=member_project_ids) & (
        ~Q(object_type__in=LEAD_ONLY_EVENT_OBJECTS) | Q(project_id__in=lead_project_ids)
    )


EMPTY_PROGRESS = {"total": 0, "answered": 0, "pass": 0, "fail": 0, "na": 0, "unanswered": 0}


def _progress_from_counts(counts: dict[str, int]) -> dict:
    progress = dict(EMPTY_PROGRESS)
    for verdict, n in counts.items():
        progress[verdict] = progress.get(verdict, 0) + n
        progress["total"] += n
    progress["answered"] = progress["total"] - progress["unanswered"]
    progress["percent"] = (
        round(100 * progress["answered"] / progress["total"]) if progress["total"] else 0
    )
    return progress


def review_progress(review: Review) -> dict:
    """Progress from the review's answer counters (no query)."""
    return _progress_from_counts(
        {
            "pass": review.answers_pass,
            "fail": review.answers_fail,
            "na": review.answers_na,
            "unanswered": review.answers_unanswered,
        }
    )


def progress_for_reviews(reviews) -> dict[int, dict]:
    """Progress of many reviews, by id, from their counters (no query)."""
    return {review.pk: review_progress(review) for review in reviews}


def section_progress(review: Review) -> dict[int, dict]:
    """Progress per section (groups roll up into their section) and per group, one query
    plus one for the section tree."""
    parents = dict(
        Section.objects.filter(
            version__in=review.review_templates.values("version_id")
        ).values_list("pk", "parent_id")
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        Response.objects.filter(review=review)
        .values("item__section_id", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    ):
        section_id = row["item__section_id"]
        counts[section_id][row["verdict"]] += row["n"]
        parent = parents.get(section_id)
        if parent:
            counts[parent][row["verdict"]] += row["n"]
    return {sid: _progress_from_counts(c) for sid, c in counts.items()}


def progress_from_rows(rows, only=None) -> tuple[dict, dict[int, dict]]:
    """Overall progress and progress per section (groups roll up into their section, and have
    their own) from ``reviews.gate.ItemRow`` tuples (no query); with ``only`` (section ids),
    the sections' progress for those alone."""
    overall: dict[str, int] = defaultdict(int)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        verdict, section_id, parent_id = row[3], row[8], row[9]
        overall[verdict] += 1
        counts[section_id][verdict] += 1
        if parent_id:
            counts[parent_id][verdict] += 1
    return (
        _progress_from_counts(overall),
        {sid: _progress_from_counts(c) for sid, c in counts.items() if only is None or sid in only},
    )


def reviews_for_list(user) -> QuerySet[Review]:
    return (
        reviews_visible_to(user)
        .select_related("spec__project", "spec__author", "created_by")
        .prefetch_related(
            # one query each, joined (not one per level)
            Prefetch(
                "review_templates",
                queryset=ReviewTemplate.objects.select_related("version__template").defer(
                    "version__source_text"  # the whole Markdown document: never shown in lists
                ),
            ),
            Prefetch("assignments", queryset=Assignment.objects.select_related("user")),
        )
        # No DISTINCT: the visible querysets join the user's one membership per project, so no
        # row repeats (filters that join many rows add their own DISTINCT); DISTINCT made every
        # page and its COUNT(*) sort the whole visible set.
    )


def specs_for_list(user) -> QuerySet[Spec]:
    return specs_visible_to(user).select_related("project", "author")


def timeline(review: Review, limit: int = 200) -> list[Event]:
    return list(
        Event.objects.filter(review_id=review.pk).select_related("actor").order_by("-id")[:limit]
    )


def responses_for_review(review: Review) -> QuerySet[Response]:
    return (
        Response.objects.filter(review=review)
        .select_related("item__section__parent", "item__version__template", "answered_by")
        .defer("item__version__source_text")  # the whole document, on every row otherwise
        .order_by("item__version_id", "item__position")
    )


# What ResponseSerializer shows of an answer and its item (and nothing more).
ANSWER_API_FIELDS = (
    "review_id",
    "verdict",
    "note",
    "version",
    "needs_recheck",
    "reset_reason",
    "answered_by",
    "answered_at",
    "item__key",
    "item__text",
    "item__guidance",
    "item__severity",
    "item__is_gate",
    "item__optional",
    "item__section__title",
    "item__version__template__slug",
)


def answer_to_write(user, review_id: int, item_id: int) -> Response | None:
    """The answer an API write changes, in one query: scoped to the reviews ``user`` may see,
    with the fields of the item the answer's representation shows."""
    try:
        return (
            Response.objects.select_related("item__section", "item__version__template")
            .only(*ANSWER_API_FIELDS)
            .get(review_id=review_id, review__in=reviews_visible_to(user), item_id=item_id)
        )
    except Response.DoesNotExist:
        return None


def findings_for_review(review: Review) -> QuerySet[Finding]:
    return review.findings.select_related("raised_by", "resolved_by", "item").order_by(
        "created_at", "id"
    )


def signoffs_for_review(review: Review) -> QuerySet[SignOff]:
    return review.signoffs.select_related("user").order_by("created_at", "id")


# What a dashboard row (fragments.review_rows_html) shows of a review.
DASHBOARD_REVIEW_FIELDS = (
    "state",
    "due_date",
    "created_at",
    "spec__title",
    *(f"answers_{verdict}" for verdict in Verdict.values),
)


def dashboard(user) -> dict:
    """What the dashboard shows: my reviews to do, waiting for my sign-off, my specs, activity.
    Each list loads only the columns its rows show (the board is rebuilt after every change)."""
    visible = reviews_visible_to(user).select_related("spec").only(*DASHBOARD_REVIEW_FIELDS)
    assigned = Assignment.objects.filter(review=OuterRef("pk"), user=user)
    signed = SignOff.objects.filter(review=OuterRef("pk"), user=user, stale=False, role="reviewer")
    # The two lists never repeat a review: one in review that I have not signed off waits for my
    # sign-off; my other open reviews are to do.
    mine = visible.annotate(assigned=Exists(assigned), signed=Exists(signed)).filter(assigned=True)
    waits_for_me = Q(state=ReviewState.IN_REVIEW, signed=False)
    todo = list(
        mine.filter(state__in=OPEN_STATES)
        .exclude(waits_for_me)
        .order_by("due_date", "-created_at")[:50]
    )
    waiting = list(mine.filter(waits_for_me).order_by("due_date", "-created_at")[:50])
    # Who may approve is the gate's one definition (a lead, not one of the spec's authors).
    to_approve = list(
        approvable_by(user, visible.filter(state=ReviewState.IN_REVIEW)).order_by(
            "due_date", "-created_at"
        )[:50]
    )
    my_specs = list(
        specs_visible_to(user)
        .filter(author=user)
        .select_related("project")
        .only("title", "revision_label", "created_at", "project__name")
        .prefetch_related(
            Prefetch("reviews", queryset=Review.objects.only("spec_id", "state", "created_at"))
        )
        .order_by("-created_at")[:50]
    )
    activity = with_names(Event.objects.only(*TIMELINE_FIELDS)).order_by("-id")
    if not user.is_superuser:
        roles = list(user.memberships.values_list("project_id", "role"))
        activity = activity.filter(
            project_events_scope(
                [project for project, _ in roles],
                [project for project, role in roles if role == Role.LEAD],
            )
        )
    return {
        "todo": todo,
        "waiting": waiting,
        "to_approve": to_approve,
        "my_specs": my_specs,
        "activity": timeline_entries(activity[:20]),
        "progress": progress_for_reviews(todo + waiting + to_approve),
    }


def failing_items(limit: int = 20, project_ids=None) -> list[dict]:
    """Checklist items that fail most across reviews (by stable key)."""
    rows = Response.objects.filter(verdict=Verdict.FAIL)
    if project_ids is not None:
        rows = rows.filter(review__spec__project_id__in=project_ids)
    return list(
        rows.values("item__key", "item__version__template__slug")
        .annotate(
            fails=Count("id"),
            reviews=Count("review_id", distinct=True),
            text=Max("item__text"),  # people read the text; the key groups the versions
        )
        .order_by("-fails", "item__key")[:limit]
    )
