"""Audit events as sentences people read: the review timeline and the dashboard's activity.

``entries(events)`` turns a page of events into ``Entry`` lines with one sentence each. The
names and item texts a sentence needs are read with the events, in the same query
(``with_names``); each verb the services record has one sentence
function in ``SENTENCES``, and an unknown verb reads "<who> — <verb in words>".
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim
from django.utils.text import Truncator

from accounts.models import User
from audit.models import Event
from checklists.models import Item
from reviews.models import Decision, GateRule, ReviewState, SignOff, Verdict

# The columns a sentence reads, in this order (``PAGE_SIZE + 1`` rows tell if there are more).
FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "actor_label",
    "verb",
    "object_id",
    "object_repr",
    "review_id",
    "before",
    "after",
    "actor_name",
    "subject_name",
    "item_text",
)
# The columns of the events themselves (``only``); the others are ``with_names``'s.
EVENT_FIELDS = FIELDS[:-3]
ASSIGNMENTS = ("review.reviewer_assigned", "review.reviewer_unassigned")
PAGE_SIZE = 50
SYSTEM = "Specgate"
ITEM_LENGTH = 80  # item texts in a sentence are cut here; the line's title holds them whole


@dataclass(frozen=True)
class Entry:
    id: int
    created_at: Any
    verb: str  # the audit verb, for integrations and styling
    review_id: int | None
    sentence: str  # item texts shortened
    full: str  # the same sentence with item texts whole (the line's title when it differs)
    system: bool


def _label(prefix: str):
    """``User.label`` in SQL: the display name, else the full name, else the e-mail."""
    full = Trim(Concat(f"{prefix}first_name", Value(" "), f"{prefix}last_name"))
    return Coalesce(
        NullIf(f"{prefix}display_name", Value("")),
        NullIf(full, Value("")),
        f"{prefix}email",
        output_field=CharField(),
    )


def with_names(events: QuerySet) -> QuerySet:
    """``events`` with what their sentences name, read in the same query (no query per line):
    ``actor_name``; ``subject_name``, the person assigned or unassigned, or whose sign-off went
    stale; ``item_text``, the text of the item answered."""
    assignee = User.objects.filter(email=OuterRef("subject_email")).annotate(name=_label(""))
    owner = SignOff.objects.filter(pk=OuterRef("object_id")).annotate(name=_label("user__"))
    item = Item.objects.filter(pk=OuterRef("answered_item"))
    return events.annotate(
        subject_email=Coalesce(KT("after__user"), KT("before__user")),
        answered_item=Cast(KT("after__item"), BigIntegerField()),
    ).annotate(
        actor_name=_label("actor__"),
        subject_name=Case(
            When(verb__in=ASSIGNMENTS, then=Subquery(assignee.values("name")[:1])),
            When(verb="signoff.stale", then=Subquery(owner.values("name")[:1])),
            default=Value(""),
            output_field=CharField(),
        ),
        item_text=Case(
            When(verb="response.answered", then=Subquery(item.values("text")[:1])),
            default=Value(""),
            output_field=TextField(),
        ),
    )


def _quote(text: str) -> str:
    return f"“{text}”"


def _item(ctx, *, short: bool) -> str:
    """The answered item's text (its key when the item is gone)."""
    after = ctx.after
    text = ctx.event.item_text or after.get("key") or "an item"
    return _quote(Truncator(text).chars(ITEM_LENGTH) if short else text)


@dataclass
class _Context:
    event: Any
    who: str
    before: dict
    after: dict
    short: bool = True


_VERDICTS = dict(Verdict.choices)
_DECISIONS = dict(Decision.choices)
_STATES = dict(ReviewState.choices)
_RULES = dict(GateRule.choices)


def _with(text: str, extra: str | None, sep: str = ": ") -> str:
    return f"{text}{sep}{extra}" if extra else text


def _answered(c: _Context) -> str:
    verdict = c.after.get("verdict")
    if verdict == Verdict.UNANSWERED:
        return f"{c.who} cleared the answer to {_item(c, short=c.short)}"
    return f"{c.who} answered {_item(c, short=c.short)}: {_VERDICTS.get(verdict, verdict)}"


def _signed_off(c: _Context) -> str:
    decision = _DECISIONS.get(c.after.get("decision"), "Approve").lower()
    comment = c.after.get("comment")
    return _with(f"{c.who} signed off ({decision})", _quote(comment) if comment else None, " — ")


def _stale(c: _Context) -> str:
    owner = c.event.subject_name
    whose = f"{owner}'s sign-off" if owner else "A sign-off"
    return _with(f"{whose} went stale", c.after.get("reason"))


def _override(c: _Context) -> str:
    rule = c.after.get("rule") or ""
    title = _RULES.get(rule, rule.replace("_", " "))
    return _with(f"{c.who} overrode the gate rule {_quote(title)}", c.after.get("justification"))


def _finding(verb: str) -> Callable[[_Context], str]:
    def sentence(c: _Context) -> str:
        title = c.after.get("title") or c.event.object_repr
        return f"{c.who} {verb} finding #{c.event.object_id} {_quote(title)}"

    return sentence


def _state_reset(c: _Context) -> str:
    state = _STATES.get(c.after.get("state"), c.after.get("state"))
    return _with(f"The review went back to {str(state).lower()}", c.after.get("reason"))


def _recheck(c: _Context) -> str:
    count = len(c.after.get("recheck") or [])
    what = "1 failed answer needs" if count == 1 else f"{count} failed answers need"
    return _with(f"{what} a re-check", c.after.get("reason"))


def _on(done: str) -> Callable[[_Context], str]:
    """The sentence "<who> <done> “<the object>”"."""
    return lambda c: f"{c.who} {done} {_quote(c.event.object_repr)}"


SENTENCES: dict[str, Callable[[_Context], str]] = {
    "review.created": lambda c: f"{c.who} created the review",
    "review.reviewer_assigned": lambda c: (
        f"{c.who} assigned {_subject(c, c.after)}"
        + (" to a section" if c.after.get("section") else "")
    ),
    "review.reviewer_unassigned": lambda c: (
        f"{c.who} unassigned {_subject(c, c.before)}"
        + (" from a section" if c.before.get("section") else "")
    ),
    "review.submit": lambda c: f"{c.who} submitted the review",
    "review.withdraw": lambda c: f"{c.who} withdrew the review",
    "review.request_changes": lambda c: f"{c.who} requested changes",
    "review.approve": lambda c: f"{c.who} approved the spec: ready for development",
    "review.reopen": lambda c: _with(f"{c.who} reopened the review", c.after.get("reason")),
    "review.migrated": lambda c: (
        f"{c.who} moved the review to checklist version {c.after.get('number')}"
    ),
    "review.state_reset": _state_reset,
    "responses.recheck": _recheck,
    "response.answered": _answered,
    "signoff.created": _signed_off,
    "signoff.stale": _stale,
    "override.granted": _override,
    "finding.raised": _finding("raised"),
    "finding.updated": _finding("edited"),
    "finding.resolved": _finding("resolved"),
    "finding.wont_fix": _finding("closed as won't fix"),
    "finding.reopened": _finding("reopened"),
    "spec.created": lambda c: f"{c.who} created the spec {_quote(c.event.object_repr)}",
    "spec.revision_posted": lambda c: (
        f"{c.who} posted revision {c.after.get('revision')} of {_quote(c.event.object_repr)}"
    ),
    "project.created": lambda c: f"{c.who} created the project {_quote(c.event.object_repr)}",
    "project.settings_changed": lambda c: f"{c.who} changed the project's settings",
    "membership.added": lambda c: f"{c.who} added a member: {c.event.object_repr}",
    "membership.changed": lambda c: f"{c.who} changed a member's role: {c.event.object_repr}",
    "membership.removed": lambda c: f"{c.who} removed a member: {c.event.object_repr}",
    "webhook.created": lambda c: f"{c.who} added a webhook to {_origin(c)}",
    "webhook.updated": lambda c: f"{c.who} changed the webhook to {_origin(c)}",
    "webhook.deleted": lambda c: f"{c.who} deleted the webhook to {_origin(c)}",
    "webhook.disabled": lambda c: _with(
        f"The webhook to {_origin(c)} was turned off", c.after.get("reason")
    ),
    "webhook.redelivered": lambda c: f"{c.who} sent a webhook delivery again to {_origin(c)}",
    **{
        verb: _on(done)
        for verb, done in (
            ("checklist.template_created", "created the checklist"),
            ("checklist.template_updated", "edited the checklist"),
            ("checklist.imported", "imported the checklist"),
            ("checklist.draft_created", "started a draft of"),
            ("checklist.draft_updated", "edited the draft"),
            ("checklist.draft_discarded", "discarded the draft"),
            ("checklist.published", "published"),
            ("checklist.retired", "retired"),
            ("checklist.section_saved", "saved the checklist section"),
            ("checklist.section_deleted", "deleted the checklist section"),
            ("checklist.item_saved", "saved the checklist item"),
            ("checklist.item_deleted", "deleted the checklist item"),
            ("token.created", "created the API token"),
            ("token.revoked", "revoked the API token"),
            ("user.created", "created the account of"),
            ("user.curator_granted", "let curate checklists:"),
            ("user.curator_revoked", "took curating away from"),
        )
    },
}


def _origin(c: _Context) -> str:
    """A webhook's URL origin (events never record its path or query)."""
    origin = c.after.get("url") or c.before.get("url")
    return origin or c.event.object_repr.rpartition(" → ")[2] or "its URL"


def _default(c: _Context) -> str:
    """An event no sentence knows: who, and the verb in words ("widget.part_added" reads
    "widget part added")."""
    words = c.event.verb.replace(".", " ").replace("_", " ").strip()
    return _with(f"{c.who} — {words}", c.event.object_repr)


def _subject(c: _Context, state: dict) -> str:
    return c.event.subject_name or state.get("user") or "someone"


def sentence(event, *, short: bool = True) -> str:
    """One event (with ``with_names``'s columns) as a sentence."""
    context = _Context(
        event=event,
        who=SYSTEM if event.actor_id is None else (event.actor_name or event.actor_label),
        before=event.before if isinstance(event.before, dict) else {},
        after=event.after if isinstance(event.after, dict) else {},
        short=short,
    )
    return SENTENCES.get(event.verb, _default)(context)


def entries(events: Iterable) -> list[Entry]:
    """The events (anything with the ``FIELDS`` attributes: events or ``rows``) as lines."""
    return [
        Entry(
            id=e.id,
            created_at=e.created_at,
            verb=e.verb,
            review_id=e.review_id,
            sentence=sentence(e),
            full=sentence(e, short=False),
            system=e.actor_id is None,
        )
        for e in events
    ]


def review_page(review_id: int, before: int | None = None) -> tuple[list[Entry], int | None]:
    """Up to ``PAGE_SIZE`` of the review's events older than event ``before`` (the newest when
    None), newest first, and the cursor of the next page (None when there is none)."""
    events = Event.objects.filter(review_id=review_id)
    if before is not None:
        events = events.filter(id__lt=before)
    events = with_names(events).order_by("-id").values_list(*FIELDS, named=True)
    rows = list(events[: PAGE_SIZE + 1])
    return page(rows)


def page(rows: list) -> tuple[list[Entry], int | None]:
    """Lines of the first ``PAGE_SIZE`` rows of ``PAGE_SIZE + 1`` read, and the next cursor."""
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return entries(rows), (rows[-1].id if more and rows else None)
