"""Answers (responses): one per review × item, saved with optimistic concurrency."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator

from config.errors import Conflict, InvalidInput, NotFound
from reviews.models import Response, Review, Verdict
from reviews.permissions import can_answer, require
from reviews.services._common import content_changed, lock_review, review_event

NOTE_LIMIT = 10_000


@dataclass
class AnswerInput:
    item_id: int
    verdict: str
    note: str = ""
    version: int | None = None


def response_state(response: Response) -> dict:
    """The answer as an integration sees it (used in 409 details)."""
    return {
        "item": response.item_id,
        "verdict": response.verdict,
        "note": response.note,
        "version": response.version,
        "needs_recheck": response.needs_recheck,
        "reset_reason": response.reset_reason,
        "answered_by": response.answered_by.email if response.answered_by_id else None,
        "answered_at": response.answered_at.isoformat() if response.answered_at else None,
    }


def answer_refusal(review: Review) -> str | None:
    if review.is_read_only:
        return f"The review is {review.get_state_display().lower()}: answers are read-only."
    return None


def validate_answer(response: Response, verdict: str, note: str) -> None:
    if verdict not in Verdict.values:
        raise InvalidInput(
            f"Unknown verdict {verdict!r}; use one of {', '.join(Verdict.values)}.",
            details={"verdict": [f"Choose one of {', '.join(Verdict.values)}."]},
        )
    if len(note) > NOTE_LIMIT:
        raise InvalidInput(
            f"The note is longer than {NOTE_LIMIT} characters.",
            details={"note": [f"At most {NOTE_LIMIT} characters."]},
        )
    if verdict == Verdict.FAIL and not note.strip():
        raise InvalidInput(
            "A fail needs a note saying what is wrong.", details={"note": ["A fail needs a note."]}
        )
    if verdict == Verdict.NA and not response.item.optional and not note.strip():
        raise InvalidInput(
            "N/A on an item that is not optional needs a note saying why.",
            details={"note": ["N/A on a required item needs a note."]},
        )


def _apply(actor, review: Review, entry: AnswerInput) -> tuple[Response, bool]:
    try:
        response = (
            Response.objects.select_for_update(of=("self",))
            .select_related("item")
            .get(review=review, item_id=entry.item_id)
        )
    except Response.DoesNotExist:
        raise NotFound(f"Item {entry.item_id} is not part of this review.") from None
    if entry.version is not None and entry.version != response.version:
        raise Conflict(
            f"Item {entry.item_id} was changed by someone else (you had version "
            f"{entry.version}, it is now {response.version}).",
            code="stale_version",
            details={"current": response_state(response)},
        )
    note = (entry.note or "").strip()
    validate_answer(response, entry.verdict, note)
    if response.verdict == entry.verdict and response.note == note:
        return response, False
    before = {"verdict": response.verdict, "note": response.note, "version": response.version}
    response.verdict = entry.verdict
    response.note = note
    response.needs_recheck = False
    response.reset_reason = ""
    response.answered_by = actor
    response.answered_at = timezone.now()
    response.version += 1
    response.save(
        update_fields=[
            "verdict",
            "note",
            "needs_recheck",
            "reset_reason",
            "answered_by",
            "answered_at",
            "version",
        ]
    )
    event = review_event(
        actor=actor,
        review=review,
        verb="response.answered",
        obj=response,
        before=before,
        after={
            "item": response.item_id,
            "key": response.item.key,
            "verdict": response.verdict,
            "note": response.note,
            "version": response.version,
        },
    )
    content_changed(
        review,
        cause=event,
        # People read the reason (sign-off list, timeline, report): the item's text, not its key.
        reason=f"answer to “{Truncator(response.item.text).chars(60)}” changed",
        verdict_change=(before["verdict"], response.verdict),
    )
    return response, True


def _require_answerable(actor, review: Review) -> None:
    require(
        can_answer(actor, review),
        actor,
        review.spec.project_id,
        "Only reviewers and leads answer checklist items.",
        "review",
    )
    refusal = answer_refusal(review)
    if refusal:
        raise Conflict(refusal, code="read_only")


@transaction.atomic
def response_save(
    *,
    actor,
    review: Review,
    item_id: int,
    verdict: str,
    note: str = "",
    version: int | None = None,
) -> tuple[Response, bool]:
    """Save one answer. A stale ``version`` is refused with the current answer; a save that
    changes nothing writes nothing. Returns (response, changed)."""
    review = lock_review(review.pk)
    _require_answerable(actor, review)
    return _apply(actor, review, AnswerInput(item_id, verdict, note, version))


@transaction.atomic
def response_save_batch(*, actor, review: Review, entries: list[AnswerInput]) -> list[Response]:
    """Save several answers: all or nothing. The error names the entry that failed."""
    review = lock_review(review.pk)
    _require_answerable(actor, review)
    if not entries:
        raise InvalidInput("No responses given.", details={"responses": ["Give at least one."]})
    seen = set()
    saved = []
    for index, entry in enumerate(entries):
        if entry.item_id in seen:
            raise InvalidInput(
                f"Item {entry.item_id} appears twice in the batch.",
                details={"responses": {str(index): ["Duplicate item."]}},
            )
        seen.add(entry.item_id)
        try:
            response, _ = _apply(actor, review, entry)
        except (InvalidInput, Conflict, NotFound) as exc:
            exc.details = {"index": index, "item": entry.item_id, **(exc.details or {})}
            exc.message = f"responses[{index}] (item {entry.item_id}): {exc.message}"
            raise
        saved.append(response)
    return saved


@transaction.atomic
def section_mark_na(
    *, actor, review: Review, section_id: int, note: str, expected: int | None = None
) -> list[Response]:
    """Answer every still-unanswered item of a top section (and its groups) N/A with one note,
    through ``response_save_batch`` (all or nothing, an audit event per answer, versions
    checked). ``expected``: the number of such items the person confirmed; if it changed
    meanwhile (someone answered one), nothing is saved and the error says how many there are."""
    review = lock_review(review.pk)
    _require_answerable(actor, review)
    note = (note or "").strip()
    in_section = Q(item__section_id=section_id) | Q(item__section__parent_id=section_id)
    section_rows = Response.objects.filter(in_section, review=review)
    if not section_rows.exists():
        raise NotFound("No such section in this review.")
    rows = list(
        section_rows.filter(verdict=Verdict.UNANSWERED)
        .order_by("item__position")
        .values_list("item_id", "version", "item__optional")
    )
    if not rows:
        raise Conflict("Every item of this section is answered already.", code="nothing_to_do")
    if expected is not None and expected != len(rows):
        raise Conflict(
            f"{len(rows)} items of this section are unanswered now, not {expected} (someone "
            "answered meanwhile): check them and confirm again.",
            code="stale_version",
            details={"unanswered": len(rows)},
        )
    if not note and not all(optional for _, _, optional in rows):
        raise InvalidInput(
            "N/A on a required item needs a note: say why these items do not apply.",
            details={"note": ["N/A on a required item needs a note."]},
        )
    entries = [AnswerInput(item_id, Verdict.NA, note, version) for item_id, version, _ in rows]
    return response_save_batch(actor=actor, review=review, entries=entries)
