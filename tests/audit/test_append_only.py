"""The database itself keeps the audit trail and the sign-offs: no TRUNCATE, and a sign-off
changes only by being marked stale, once, naming its event. PostgreSQL only (the triggers)."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import Event
from reviews import services
from reviews.models import Review, SignOff
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_world

pytestmark = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="the append-only triggers are PostgreSQL's",
)


def refused(sql, params=(), match="append-only|sign-off"):
    """``sql`` fails in the database, and nothing it did remains."""
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.fixture
def world(db):
    w = make_world()
    services.review_submit(actor=w.author, review=w.review)
    return w


@pytest.fixture
def signoff(world):
    return services.signoff_create(actor=world.reviewer, review=world.review, comment="ok")


def make_stale(world):
    item = world.version.items.order_by("position").first()
    services.response_save(
        actor=world.reviewer2, review=world.review, item_id=item.pk, verdict="pass"
    )


def row(signoff):
    return SignOff.objects.filter(pk=signoff.pk).values().get()


# --- TRUNCATE ---------------------------------------------------------------------------------


# Committed rows (transaction=True): inside a test's transaction, PostgreSQL refuses TRUNCATE
# for pending foreign-key checks before our trigger would run.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE audit_event CASCADE",
        "TRUNCATE reviews_signoff",
        "TRUNCATE audit_event, reviews_signoff RESTART IDENTITY CASCADE",
        "TRUNCATE reviews_review CASCADE",  # reaches the sign-offs through the foreign key
        "TRUNCATE accounts_user CASCADE",  # reaches both
    ],
)
def test_truncate_is_refused(sql):
    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    services.signoff_create(actor=world.reviewer, review=world.review)
    events, signoffs = Event.objects.count(), SignOff.objects.count()
    refused(sql, match="TRUNCATE refused")
    assert (Event.objects.count(), SignOff.objects.count()) == (events, signoffs)
    assert Review.objects.filter(pk=world.review.pk).exists()


@pytest.mark.django_db
def test_the_app_connection_does_not_allow_truncate(world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('specgate.allow_truncate', true)")
        assert cursor.fetchone()[0] in (None, "")


@pytest.mark.django_db(transaction=True)
def test_only_flush_may_truncate_and_the_permission_ends_with_it():
    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    services.signoff_create(actor=world.reviewer, review=world.review)
    call_command("flush", interactive=False, verbosity=0)
    assert not Event.objects.exists() and not SignOff.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('specgate.allow_truncate', true)")
        assert cursor.fetchone()[0] == ""
    refused("TRUNCATE audit_event CASCADE", match="TRUNCATE refused")


# --- sign-offs --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column, value",
    [
        ("user_id", "other user"),
        ("decision", "request_changes"),
        ("comment", "forged"),
        ("role", "lead"),
        ("digest", "0" * 64),
        ("created_at", "now"),
        ("id", "other id"),
        ("stale_reason", "set on a current sign-off"),
        ("stale_event_id", "an event"),
    ],
)
def test_a_current_signoff_cannot_be_rewritten(signoff, column, value):
    value = {
        "other user": UserFactory().pk,
        "now": timezone.now(),
        "other id": signoff.pk + 1000,
        "an event": Event.objects.order_by("-id").first().pk,
    }.get(value, value)
    before = row(signoff)
    refused(f"UPDATE reviews_signoff SET {column} = %s WHERE id = %s", [value, signoff.pk])
    assert row(signoff) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "assignments",
    [
        "stale = false",
        "stale = false, stale_reason = '', stale_event_id = NULL",
        "stale_reason = 'another change'",
        "stale_event_id = stale_event_id - 1",
        "comment = 'forged'",
        "decision = 'request_changes'",
    ],
)
def test_a_stale_signoff_cannot_be_revived_or_rewritten(world, signoff, assignments):
    make_stale(world)
    before = row(signoff)
    assert before["stale"] and before["stale_event_id"]
    refused(f"UPDATE reviews_signoff SET {assignments} WHERE id = %s", [signoff.pk])
    assert row(signoff) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "event", ["none", "another sign-off's event", "not a stale event"], ids=str
)
def test_marking_stale_must_name_the_signoff_stale_event(world, signoff, event):
    other = services.signoff_create(actor=world.reviewer2, review=world.review)
    make_stale(world)  # both go stale: each gets its own signoff.stale event
    stale_event_of_other = SignOff.objects.get(pk=other.pk).stale_event_id
    # A fresh, current sign-off to forge a stale mark on.
    current = services.signoff_create(actor=world.reviewer, review=world.review)
    event_id = {
        "none": None,
        "another sign-off's event": stale_event_of_other,
        "not a stale event": Event.objects.get(verb="signoff.created", object_id=current.pk).pk,
    }[event]
    refused(
        "UPDATE reviews_signoff SET stale = true, stale_reason = 'x', stale_event_id = %s "
        "WHERE id = %s",
        [event_id, current.pk],
    )
    assert not SignOff.objects.get(pk=current.pk).stale


@pytest.mark.django_db
def test_signoffs_cannot_be_deleted(signoff):
    refused("DELETE FROM reviews_signoff WHERE id = %s", [signoff.pk])
    assert SignOff.objects.filter(pk=signoff.pk).exists()


@pytest.mark.django_db
def test_marking_stale_still_works_and_an_unchanged_save_passes(world, signoff):
    SignOff.objects.get(pk=signoff.pk).save()  # an UPDATE that changes nothing
    make_stale(world)
    stale = SignOff.objects.get(pk=signoff.pk)
    assert stale.stale and stale.stale_reason
    event = Event.objects.get(pk=stale.stale_event_id)
    assert (event.verb, event.object_id) == ("signoff.stale", signoff.pk)
    stale.save()  # still nothing changed


# --- events -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET verb = 'forged'",
        "UPDATE audit_event SET hash = hash WHERE id = (SELECT max(id) FROM audit_event)",
        "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)",
    ],
)
def test_events_cannot_be_updated_or_deleted(world, sql):
    before = list(Event.objects.values_list("id", "hash", "verb"))
    refused(sql)
    assert list(Event.objects.values_list("id", "hash", "verb")) == before
