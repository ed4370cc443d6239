"""The review page's reads, compiled once.

Building and compiling a queryset with a few joins costs Django 1-2 ms of CPU, more than the
database takes to answer it, and the review page reads about ten of them. ``PreparedQuery``
builds and compiles each once per process and database, then runs Django's own SQL with this
request's value, through Django's cursor (it counts as a query like any other), applying the
same converters the queryset would. The rows come back as tuples and the page reads them as
light objects (``Row``), not model instances.
"""

from collections import namedtuple

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import CharField, F, IntegerField, Value
from django.utils import timezone

from accounts.models import User
from audit.models import Event
from config.errors import NotFound
from reviews import timeline as timeline_lines
from reviews.gate import GateData, authors_from, revision_posters
from reviews.models import (
    Assignment,
    Decision,
    Finding,
    FindingSeverity,
    FindingStatus,
    Membership,
    Override,
    Project,
    Review,
    Role,
    SignOff,
    SignOffRole,
    Spec,
)
from reviews.permissions import require_visible


class PreparedQuery:
    """A ``values_list`` queryset built and compiled once per database, run with other values
    for its parameters. ``build(*values)`` returns the queryset; each value must reach the SQL
    as a parameter (a filter value), exactly once."""

    SENTINEL = -7_919_003

    def __init__(self, build, arity: int = 1):
        self.build = build
        self.sentinels = tuple(self.SENTINEL - n for n in range(arity))
        self._compiled: dict[tuple, tuple] = {}

    def _compile(self, connection) -> tuple:
        key = (connection.alias, connection.vendor, connection.settings_dict.get("NAME"))
        compiled = self._compiled.get(key)
        if compiled is not None:
            return compiled
        queryset = self.build(*self.sentinels)
        query = queryset.query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = []
        for sentinel in self.sentinels:
            where = [i for i, value in enumerate(params) if value == sentinel]
            if len(where) != 1:
                raise ValueError("A prepared query uses each parameter exactly once.")
            slots.append(where[0])
        # As ``compiler.results_iter`` reads the rows: the selected columns only, through the
        # converters (SQLite's booleans and dates, for one).
        width = compiler.col_count if compiler.has_extra_select else None
        columns = [s[0] for s in compiler.select[: compiler.col_count]]
        converters = [
            (pos, funcs, expression)
            for pos, (funcs, expression) in compiler.get_converters(columns).items()
        ]
        compiled = self._compiled[key] = (sql, params, slots, width, converters)
        return compiled

    def rows(self, *values) -> list[tuple]:
        connection = connections[DEFAULT_DB_ALIAS]
        sql, params, slots, width, converters = self._compile(connection)
        params = list(params)
        for slot, value in zip(slots, values, strict=True):
            params[slot] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if width is not None:
            rows = [row[:width] for row in rows]
        if not converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for pos, funcs, expression in converters:
                value = row[pos]
                for func in funcs:
                    value = func(value, expression, connection)
                row[pos] = value
            converted.append(tuple(row))
        return converted


# --- the review -------------------------------------------------------------------------------


def _columns(model, prefix: str = "") -> list[str]:
    return [f"{prefix}{field.attname}" for field in model._meta.concrete_fields]


def _review_query(pk):
    return Review.objects.filter(pk=pk).values_list(
        *_columns(Review),
        *_columns(Spec, "spec__"),
        *_columns(Project, "spec__project__"),
        *_columns(User, "spec__author__"),
    )


_REVIEW = PreparedQuery(_review_query)


def _instance(model, values, db: str):
    return model.from_db(db, [f.attname for f in model._meta.concrete_fields], values)


def get_review(user, pk: int) -> Review:
    """``reviews.views._common.get_review`` (with the spec, its project and author; 404 for
    whoever cannot see the project), from one prepared query."""
    rows = _REVIEW.rows(pk)
    if not rows:
        raise NotFound("No such review.")
    values = iter(rows[0])
    db = DEFAULT_DB_ALIAS
    parts = []
    for model in (Review, Spec, Project, User):
        width = len(model._meta.concrete_fields)
        parts.append(_instance(model, [next(values) for _ in range(width)], db))
    review, spec, project, author = parts
    spec.project = project
    spec.author = author
    review.spec = spec
    require_visible(user, project.pk, "review")
    return review


class Row:
    """A plain attribute bag: what a template reads of a model instance, for less."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


def _label(email, display, first, last) -> str:
    """``User.label`` from its columns."""
    return display or f"{first or ''} {last or ''}".strip() or email


def _user(pk, email, display, first, last) -> Row | None:
    if pk is None:
        return None
    return Row(pk=pk, id=pk, email=email, label=_label(email, display, first, last))


def _user_fields(prefix: str) -> tuple[str, ...]:
    return tuple(
        f"{prefix}{name}" for name in ("id", "email", "display_name", "first_name", "last_name")
    )


# --- findings -------------------------------------------------------------------------------

_FINDINGS = PreparedQuery(
    lambda review_id: (
        Finding.objects.filter(review_id=review_id)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "item_id",
            "item__key",
            "item__text",
            "severity",
            "title",
            "location",
            "impact",
            "recommendation",
            "verification",
            "status",
            "resolution_note",
            *_user_fields("raised_by__"),
            *_user_fields("resolved_by__"),
        )
    )
)
_SEVERITIES = dict(FindingSeverity.choices)
_STATUSES = dict(FindingStatus.choices)


def findings(review) -> list[Row]:
    """The review's findings, oldest first, as the page and the gate read them."""
    result = []
    for row in _FINDINGS.rows(review.pk):
        (pk, item_id, item_key, item_text, severity, title, location, impact, recommendation,
         verification, status, resolution_note, *users) = row  # fmt: skip
        raised_by, resolved_by = _user(*users[:5]), _user(*users[5:])
        result.append(
            Row(
                pk=pk,
                id=pk,
                review=review,
                review_id=review.pk,
                item_id=item_id,
                item=Row(pk=item_id, key=item_key, text=item_text) if item_id else None,
                severity=severity,
                get_severity_display=_SEVERITIES.get(severity, severity),
                title=title,
                location=location,
                impact=impact,
                recommendation=recommendation,
                verification=verification,
                status=status,
                get_status_display=_STATUSES.get(status, status),
                resolution_note=resolution_note,
                raised_by=raised_by,
                raised_by_id=raised_by.pk,
                resolved_by=resolved_by,
                resolved_by_id=resolved_by.pk if resolved_by else None,
            )
        )
    return result


# --- sign-offs ------------------------------------------------------------------------------

_SIGNOFFS = PreparedQuery(
    lambda review_id: (
        SignOff.objects.filter(review_id=review_id)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "role",
            "decision",
            "comment",
            "created_at",
            "stale",
            "stale_reason",
            *_user_fields("user__"),
        )
    )
)
_ROLES = dict(SignOffRole.choices)
_DECISIONS = dict(Decision.choices)


def signoffs(review) -> list[Row]:
    result = []
    for pk, role, decision, comment, created_at, stale, stale_reason, *user in _SIGNOFFS.rows(
        review.pk
    ):
        user = _user(*user)
        result.append(
            Row(
                pk=pk,
                id=pk,
                user=user,
                user_id=user.pk,
                role=role,
                get_role_display=_ROLES.get(role, role),
                decision=decision,
                get_decision_display=_DECISIONS.get(decision, decision),
                comment=comment,
                created_at=created_at,
                stale=bool(stale),
                stale_reason=stale_reason,
            )
        )
    return result


# --- reviewers --------------------------------------------------------------------------------


def _reviewers_query(review_id, project_id):
    """Who is assigned to the review (with the section) and, after them, the e-mails of the
    project's reviewers and leads (who may be assigned): one query."""
    assigned = (
        Assignment.objects.filter(review_id=review_id)
        .order_by()
        .annotate(kind=Value(0))
        .values_list("kind", *_user_fields("user__"), "section_id", "section__title")
    )
    members = (
        Membership.objects.filter(project_id=project_id, role__in=[Role.REVIEWER, Role.LEAD])
        .order_by()
        .annotate(
            kind=Value(1),
            none=Value(None, output_field=IntegerField()),
            blank=Value("", output_field=CharField()),
        )
        .values_list("kind", "user_id", "user__email", "blank", "blank", "blank", "none", "blank")
    )
    return assigned.union(members, all=True).order_by("kind", "user__email", "section_id")


_REVIEWERS = PreparedQuery(_reviewers_query, arity=2)


def reviewers(review) -> tuple[list[Row], list[str]]:
    """The review's assignments (by e-mail, then section) and the e-mails of the project's
    reviewers and leads."""
    assigned, members = [], []
    for kind, *user, section_id, title in _REVIEWERS.rows(review.pk, review.spec.project_id):
        if kind == 0:
            assigned.append(
                Row(
                    section_id=section_id,
                    section=Row(pk=section_id, title=title) if section_id else None,
                    user=_user(*user),
                )
            )
        else:
            members.append(user[1])
    return assigned, members


# --- the timeline ------------------------------------------------------------------------------

_TIMELINE_ROW = namedtuple("_TIMELINE_ROW", timeline_lines.FIELDS)
_TIMELINE = PreparedQuery(
    lambda review_id: (
        timeline_lines.with_names(Event.objects.filter(review_id=review_id))
        .order_by("-id")
        .values_list(*timeline_lines.FIELDS)[: timeline_lines.PAGE_SIZE + 1]
    )
)


def timeline(review) -> list[tuple]:
    """The review's latest events, newest first, one more than a page (``reviews.timeline``
    makes them sentences); the actor's e-mail is stored with the event."""
    return [_TIMELINE_ROW(*row) for row in _TIMELINE.rows(review.pk)]


# --- the gate's other facts -------------------------------------------------------------------

_AUTHORS = PreparedQuery(revision_posters)


def spec_authors(review) -> set[int]:
    """``reviews.gate.spec_authors`` (the same query, prepared)."""
    return authors_from(review.spec.author_id, _AUTHORS.rows(review.spec_id))


_OVERRIDES = PreparedQuery(
    lambda review_id: (
        Override.objects.filter(review_id=review_id, content_version=F("review__content_version"))
        .order_by("created_at", "id")
        .values_list("id", "rule", "justification", "expires_at", "granted_by__email")
    )
)


def active_overrides(review, now=None) -> dict[str, Row]:
    """``reviews.gate.active_overrides``: overrides granted for the current content (the
    stored ``content_version``, read in the same query) and not expired."""
    now = now or timezone.now()
    return {
        rule: Row(
            pk=pk,
            id=pk,
            rule=rule,
            justification=justification,
            expires_at=expires_at,
            granted_by=Row(email=email),
        )
        for pk, rule, justification, expires_at, email in _OVERRIDES.rows(review.pk)
        if expires_at is None or expires_at > now
    }


class PageGateData(GateData):
    """The gate's facts for the review page: the answers, findings and sign-offs the page read,
    the authors and the overrides read here (prepared) when a rule asks for them."""

    def __init__(self, review, **kwargs):
        self._overrides = None
        super().__init__(review, **kwargs)

    def authors(self) -> set[int]:
        if self._authors is None:
            self._authors = spec_authors(self.review)
        return self._authors

    @property
    def overrides(self):
        if self._overrides is None:
            self._overrides = active_overrides(self.review)
        return self._overrides

    @overrides.setter
    def overrides(self, value) -> None:
        self._overrides = value
