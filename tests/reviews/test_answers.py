"""Answers, stale sign-offs, revisions, template migration, concurrency and the audit trail."""

import threading

import pytest
from django.db import connection
from django.db.models import Count

from audit.models import Event
from audit.services import verify_chain
from config.errors import Conflict, Forbidden, InvalidInput, NotFound
from reviews import services
from reviews.models import Response, Review, SignOff
from reviews.selectors import review_progress, section_progress
from tests.reviews.factories import make_big_version, make_version, make_world

pytestmark = pytest.mark.django_db


def save(world, key, verdict, note="", version=None, actor=None):
    return services.response_save(
        actor=actor or world.reviewer,
        review=world.review,
        item_id=world.items()[key].pk,
        verdict=verdict,
        note=note,
        version=version,
    )


def test_answer_moves_version_and_records_who(world):
    response, changed = save(world, "item-3", "pass", version=1)
    assert changed and response.version == 2 and response.answered_by == world.reviewer
    event = Event.objects.filter(verb="response.answered").get()
    assert event.before["verdict"] == "unanswered" and event.after["verdict"] == "pass"


def test_stale_version_is_refused_with_the_current_answer(world):
    save(world, "item-3", "pass", version=1)
    with pytest.raises(Conflict) as caught:
        save(world, "item-3", "fail", note="nope", version=1, actor=world.reviewer2)
    assert caught.value.code == "stale_version"
    current = caught.value.details["current"]
    assert current["verdict"] == "pass" and current["version"] == 2
    assert current["answered_by"] == world.reviewer.email
    assert Response.objects.get(item__key="item-3", review=world.review).verdict == "pass"


def test_fail_needs_a_note(world):
    with pytest.raises(InvalidInput, match="fail needs a note") as caught:
        save(world, "item-3", "fail")
    assert "note" in caught.value.details


def test_unknown_verdict_and_item_are_refused(world):
    with pytest.raises(InvalidInput, match="Unknown verdict"):
        save(world, "item-3", "maybe")
    with pytest.raises(NotFound):
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=999999, verdict="pass"
        )


def test_save_that_changes_nothing_changes_nothing(world):
    save(world, "item-3", "pass")
    services.signoff_create(actor=world.reviewer, review=world.review)
    events = Event.objects.count()
    world.review.refresh_from_db()
    content_version = world.review.content_version
    response, changed = save(world, "item-3", "pass")
    assert not changed and response.version == 2
    assert Event.objects.count() == events
    assert not SignOff.objects.filter(stale=True).exists()
    world.review.refresh_from_db()
    assert world.review.content_version == content_version


def test_change_after_signoff_makes_it_stale_by_the_system(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    signoff = services.signoff_create(actor=world.reviewer, review=world.review)
    with django_capture_on_commit_callbacks(execute=True):
        save(world, "item-3", "pass", actor=world.reviewer2)
    signoff.refresh_from_db()
    # The reason names the item's text, which people read, not its key.
    text = world.items()["item-3"].text
    assert signoff.stale and f"“{text}”" in signoff.stale_reason
    assert "item-3" not in signoff.stale_reason
    stale_event = Event.objects.get(pk=signoff.stale_event_id)
    assert stale_event.verb == "signoff.stale" and stale_event.actor is None
    assert stale_event.actor_label == "system"
    assert stale_event.cause.verb == "response.answered"
    assert stale_event.cause.actor == world.reviewer2
    assert any("stale" in m.subject and world.reviewer.email in m.to for m in mailoutbox)


@pytest.mark.parametrize("change", ["raise", "resolve"])
def test_finding_changes_make_signoffs_stale(world, change):
    finding = services.finding_raise(
        actor=world.reviewer, review=world.review, severity="suggestion", title="Name things"
    )
    signoff = services.signoff_create(actor=world.reviewer, review=world.review)
    if change == "raise":
        services.finding_raise(
            actor=world.reviewer2, review=world.review, severity="strength", title="Clear diagrams"
        )
    else:
        services.finding_resolve(actor=world.author, finding=finding, note="renamed")
    signoff.refresh_from_db()
    assert signoff.stale


def test_batch_is_all_or_nothing(world):
    items = world.items()
    entries = [
        services.AnswerInput(items["item-3"].pk, "pass"),
        services.AnswerInput(items["item-1"].pk, "fail"),  # no note: refused
    ]
    with pytest.raises(InvalidInput) as caught:
        services.response_save_batch(actor=world.reviewer, review=world.review, entries=entries)
    assert caught.value.details["index"] == 1
    assert not Response.objects.filter(review=world.review).exclude(verdict="unanswered").exists()
    saved = services.response_save_batch(
        actor=world.reviewer,
        review=world.review,
        entries=[
            services.AnswerInput(items["item-3"].pk, "pass", version=1),
            services.AnswerInput(items["item-1"].pk, "fail", "no error table", version=1),
        ],
    )
    assert [r.version for r in saved] == [2, 2]


@pytest.mark.parametrize("role", ["viewer", "author"])
def test_only_reviewers_and_leads_answer(world, role):
    with pytest.raises(Forbidden):
        save(world, "item-3", "pass", actor=getattr(world, role))


def test_outsider_gets_not_found(world):
    with pytest.raises(NotFound):
        save(world, "item-3", "pass", actor=world.outsider)


def counted(review) -> dict:
    """The review's progress as its answers say (an aggregate), to hold the counters to."""
    counts = dict.fromkeys(["pass", "fail", "na", "unanswered"], 0)
    for row in Response.objects.filter(review=review).values("verdict").annotate(n=Count("id")):
        counts[row["verdict"]] = row["n"]
    return counts


def assert_counters_agree(review):
    fresh = Review.objects.get(pk=review.pk)
    progress = review_progress(fresh)
    assert {k: progress[k] for k in ("pass", "fail", "na", "unanswered")} == counted(review)
    return progress


def test_progress_counts(world):
    assert assert_counters_agree(world.review)["unanswered"] == 4  # set when the review is made
    save(world, "item-0", "pass")
    save(world, "item-1", "fail", note="x")
    save(world, "item-2", "na")
    save(world, "item-2", "na", note="same verdict, other note")  # moves no counter
    progress = assert_counters_agree(world.review)
    assert progress == {
        "total": 4,
        "answered": 3,
        "pass": 1,
        "fail": 1,
        "na": 1,
        "unanswered": 1,
        "percent": 75,
    }
    section = world.version.sections.get()
    assert section_progress(world.review)[section.pk]["answered"] == 3


def test_progress_counters_follow_a_batch_and_undo(world):
    items = world.items()
    services.response_save_batch(
        actor=world.reviewer,
        review=world.review,
        entries=[
            services.AnswerInput(items["item-0"].pk, "pass"),
            services.AnswerInput(items["item-1"].pk, "fail", "x"),
        ],
    )
    assert assert_counters_agree(world.review)["answered"] == 2
    save(world, "item-1", "pass")
    save(world, "item-1", "unanswered")
    assert assert_counters_agree(world.review)["answered"] == 1
    with pytest.raises(InvalidInput):  # all or nothing: the counters move with the answers
        services.response_save_batch(
            actor=world.reviewer,
            review=world.review,
            entries=[
                services.AnswerInput(items["item-2"].pk, "pass"),
                services.AnswerInput(items["item-3"].pk, "fail"),  # a fail needs a note
            ],
        )
    assert assert_counters_agree(world.review)["answered"] == 1


# --- revisions -----------------------------------------------------------------------------


def test_new_revision_resets_fails_keeps_passes_and_reopens(world):
    save(world, "item-0", "pass")
    save(world, "item-1", "fail", note="missing errors")
    services.signoff_create(actor=world.reviewer, review=world.review)
    services.review_request_changes(actor=world.lead, review=world.review)
    revision, created = services.spec_post_revision(
        actor=world.author, spec=world.spec, label="r2", note="added error table"
    )
    assert created and revision.number == 2
    review = Review.objects.get(pk=world.review.pk)
    assert review.state == "in_review"
    by_key = {r.item.key: r for r in review.responses.select_related("item")}
    assert by_key["item-0"].verdict == "pass"
    assert by_key["item-1"].verdict == "unanswered" and by_key["item-1"].needs_recheck
    assert assert_counters_agree(review)["fail"] == 0
    assert not SignOff.objects.filter(review=review, stale=False).exists()
    reset = Event.objects.get(verb="review.state_reset")
    assert reset.actor is None and reset.cause.verb == "spec.revision_posted"
    assert reset.cause.actor == world.author


def test_posting_the_same_revision_changes_nothing(world):
    services.signoff_create(actor=world.reviewer, review=world.review)
    events = Event.objects.count()
    _, created = services.spec_post_revision(
        actor=world.author, spec=world.spec, label=world.spec.revision_label
    )
    assert not created and Event.objects.count() == events
    assert not SignOff.objects.filter(stale=True).exists()


def test_only_author_or_lead_posts_revisions(world):
    with pytest.raises(Forbidden):
        services.spec_post_revision(actor=world.reviewer, spec=world.spec, label="r9")


def test_approved_review_goes_back_to_in_review_on_revision(world):
    for item in world.version.items.all():
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass"
        )
    services.signoff_create(actor=world.reviewer, review=world.review)
    services.review_approve(actor=world.lead, review=world.review)
    services.spec_post_revision(actor=world.author, spec=world.spec, label="r2")
    assert Review.objects.get(pk=world.review.pk).state == "in_review"


# --- template migration --------------------------------------------------------------------


def test_migration_follows_stable_keys(world):
    save(world, "item-0", "pass")
    save(world, "item-1", "fail", note="bad")
    save(world, "item-3", "pass")
    services.signoff_create(actor=world.reviewer, review=world.review)
    v2 = make_version(
        template=world.version.template,
        number=2,
        items=[
            ("Gate: the API contract is written down", "must", True, False),  # same
            ("Errors are specified for every endpoint, with codes", "must", False, False),
            ("Rollout plan exists", "should", False, False),
        ],  # new
        keys=["item-0", "item-1", "item-9"],
    )
    summary = services.review_migrate(actor=world.lead, review=world.review, to_version=v2)
    assert summary["kept"] == 1 and summary["reset"] == ["item-1"]
    assert summary["added"] == ["item-9"] and summary["removed"] == ["item-2", "item-3"]
    by_key = {r.item.key: r for r in world.review.responses.select_related("item")}
    assert set(by_key) == {"item-0", "item-1", "item-9"}
    assert by_key["item-0"].verdict == "pass" and by_key["item-0"].item.version == v2
    assert by_key["item-1"].verdict == "unanswered"
    assert assert_counters_agree(world.review) | {"percent": 0} == {
        "total": 3,
        "answered": 1,
        "pass": 1,
        "fail": 0,
        "na": 0,
        "unanswered": 2,
        "percent": 0,
    }
    assert not SignOff.objects.filter(review=world.review, stale=False).exists()
    event = Event.objects.get(verb="review.migrated")
    assert event.before["removed_answers"]["item-3"]["verdict"] == "pass"


def test_migration_refuses_older_or_unpublished(world):
    draft = make_version(template=world.version.template, number=2, status="draft")
    with pytest.raises(InvalidInput):
        services.review_migrate(actor=world.lead, review=world.review, to_version=draft)
    with pytest.raises(Conflict):
        services.review_migrate(actor=world.lead, review=world.review, to_version=world.version)
    with pytest.raises(Forbidden):
        services.review_migrate(actor=world.reviewer, review=world.review, to_version=draft)


# --- concurrency and audit -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_writers_one_stale_nothing_lost():
    if connection.vendor == "sqlite":
        pytest.skip(
            "the in-memory test database of SQLite has no concurrent writers; "
            "test_stale_version_is_refused_with_the_current_answer covers it in sequence"
        )
    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    item = world.items()["item-3"]
    results, barrier = {}, threading.Barrier(2)

    def writer(name, actor, verdict, note):
        barrier.wait()
        try:
            response, _ = services.response_save(
                actor=actor,
                review=world.review,
                item_id=item.pk,
                verdict=verdict,
                note=note,
                version=1,
            )
            results[name] = ("ok", response.version)
        except Conflict as exc:
            results[name] = ("conflict", exc.details["current"])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=writer, args=("a", world.reviewer, "pass", "")),
        threading.Thread(target=writer, args=("b", world.reviewer2, "fail", "broken")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(r[0] for r in results.values())
    assert outcomes == ["conflict", "ok"]
    winner = next(n for n, r in results.items() if r[0] == "ok")
    loser = next(n for n, r in results.items() if r[0] == "conflict")
    stored = Response.objects.get(review=world.review, item=item)
    assert stored.version == 2
    assert results[loser][1]["verdict"] == stored.verdict
    assert stored.verdict == {"a": "pass", "b": "fail"}[winner]


def test_audit_trail_is_complete_for_a_whole_review():
    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    for item in world.version.items.all():
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass"
        )
    finding = services.finding_raise(
        actor=world.reviewer, review=world.review, severity="critical", title="No auth"
    )
    services.finding_resolve(actor=world.author, finding=finding, note="fixed")
    services.signoff_create(actor=world.reviewer, review=world.review)
    services.review_approve(actor=world.lead, review=world.review)
    verbs = list(Event.objects.filter(review_id=world.review.pk).values_list("verb", flat=True))
    assert verbs == ["review.created", "review.submit"] + ["response.answered"] * 4 + [
        "finding.raised",
        "finding.resolved",
        "signoff.created",
        "review.approve",
    ]
    assert verify_chain() == (True, None, "")


def test_events_cannot_be_edited_or_deleted(world):
    event = Event.objects.first()
    event.verb = "forged"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(verb="forged")
    with pytest.raises(TypeError):
        Event.objects.all().delete()


def test_verify_chain_reports_the_first_break(world):
    save(world, "item-3", "pass")
    target = Event.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # an attacker with the owner's rights
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE audit_event SET verb = %s WHERE id = %s", ["forged", target.pk])
    ok, broken, why = verify_chain()
    assert not ok and broken.pk == target.pk and "altered" in why


@pytest.mark.parametrize("size", [10, 500])
def test_answer_save_query_count_does_not_grow(size, django_assert_max_num_queries):
    world = make_world(version=make_big_version(f"big-{size}", size))
    services.review_submit(actor=world.author, review=world.review)
    services.signoff_create(actor=world.reviewer, review=world.review)
    item = world.version.items.order_by("position")[5]
    with django_assert_max_num_queries(20):
        services.response_save(
            actor=world.reviewer2, review=world.review, item_id=item.pk, verdict="pass"
        )


def test_database_refuses_to_rewrite_events_and_signoffs(world):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only triggers are PostgreSQL's")
    from django.db import DatabaseError, transaction

    services.signoff_create(actor=world.reviewer, review=world.review)
    for sql in (
        "UPDATE audit_event SET verb = 'forged'",
        "DELETE FROM audit_event",
        "DELETE FROM reviews_signoff",
        "UPDATE reviews_signoff SET digest = 'forged'",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    save(world, "item-3", "pass")  # marking stale is still allowed
    assert SignOff.objects.get(review=world.review).stale


def test_verify_audit_command(world):
    from django.core.management import call_command

    call_command("verify_audit")
