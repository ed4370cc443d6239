"""``verify_audit``: the first altered or missing event is named, the command fails with status
1, and a head kept elsewhere (``--expect-head``) catches events cut off the end."""

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connection, connections, transaction

from audit.models import Event
from audit.services import compute_hash, verify_chain
from reviews import services
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = make_world()
    services.review_submit(actor=w.author, review=w.review)
    for item in w.version.items.order_by("position"):
        services.response_save(
            actor=w.reviewer, review=w.review, item_id=item.pk, verdict="pass", note="ok"
        )
    assert Event.objects.count() >= 6
    return w


@contextmanager
def tampering():
    """Raw SQL with the tables' owner's rights: on PostgreSQL the triggers are switched off
    (``session_replication_role``), as a superuser could."""
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor
        if postgres:
            cursor.execute("SET LOCAL session_replication_role = origin")


def events():
    return list(Event.objects.order_by("id"))


def alter(event, verb="forged"):
    with tampering() as cursor:
        cursor.execute("UPDATE audit_event SET verb = %s WHERE id = %s", [verb, event.pk])


def remove(*doomed):
    with tampering() as cursor:
        for event in doomed:
            cursor.execute("DELETE FROM audit_event WHERE id = %s", [event.pk])


def verify(*args):
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def cli(monkeypatch, capsys, *args):
    """Run the command as ``manage.py`` does; return (exit status, stdout, stderr)."""
    # run_from_argv closes every connection when done, which would end the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    status = 0
    try:
        execute_from_command_line(["manage.py", "verify_audit", *args])
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def head_of():
    head = Event.objects.order_by("-id").first()
    return f"{head.pk}:{head.hash}"


def test_an_intact_chain_passes_and_prints_its_head(world, monkeypatch, capsys):
    status, out, err = cli(monkeypatch, capsys)
    assert (status, err) == (0, "")
    assert f"Audit chain intact: {Event.objects.count()} events; head {head_of()}" in out


@pytest.mark.parametrize("order", ["earlier first", "later first"])
def test_of_two_altered_events_the_earlier_is_reported(world, order):
    chain = events()
    earlier, later = chain[2], chain[4]
    for event in (earlier, later) if order == "earlier first" else (later, earlier):
        alter(event)
    assert verify_chain() == (
        False,
        earlier,
        f"event {earlier.pk} was altered after it was written",
    )
    with pytest.raises(CommandError) as refused:
        verify()
    assert str(refused.value) == (
        f"Audit chain broken at event {earlier.pk}: "
        f"event {earlier.pk} was altered after it was written."
    )


def test_a_deleted_event_in_the_middle_is_reported(world):
    chain = events()
    gone = next(e for e in chain[1:-1] if not e.effects.exists())
    after = chain[chain.index(gone) + 1]
    remove(gone)
    assert verify_chain() == (
        False,
        after,
        f"event {after.pk} does not link to the event before it",
    )
    with pytest.raises(CommandError, match=f"broken at event {after.pk}: .* does not link"):
        verify()


def test_a_deleted_first_event_is_reported(world):
    first, second = events()[:2]
    assert not first.effects.exists()
    remove(first)
    ok, broken, why = verify_chain()
    assert (ok, broken, why) == (
        False,
        second,
        f"event {second.pk} does not link to the event before it",
    )


def test_a_broken_chain_fails_with_status_1_and_says_where(world, monkeypatch, capsys):
    target = events()[3]
    alter(target)
    status, out, err = cli(monkeypatch, capsys)
    assert status == 1
    assert out == ""
    assert err.strip() == (
        f"CommandError: Audit chain broken at event {target.pk}: "
        f"event {target.pk} was altered after it was written."
    )


def test_the_expected_head_passes_while_the_chain_grows(world):
    head = head_of()
    services.finding_raise(
        actor=world.reviewer, review=world.review, severity="suggestion", title="x"
    )
    assert f"head {head_of()}" in verify("--expect-head", head)
    assert head_of() != head


def test_a_cut_tail_goes_unnoticed_without_the_expected_head(world):
    """The limitation --expect-head exists for: what remains of a chain still links up."""
    head = head_of()
    chain = events()
    remove(*[e for e in chain[-2:] if not e.effects.exists()])
    assert len(events()) == len(chain) - 2
    assert "Audit chain intact" in verify()
    with pytest.raises(CommandError, match=r"Audit chain cut: event \d+, the expected head"):
        verify("--expect-head", head)


def test_a_rehashed_head_is_caught_by_the_expected_head(world, monkeypatch, capsys):
    """Rewriting the newest event and computing its hash anew keeps the chain valid; the head
    kept elsewhere still tells."""
    head = head_of()
    newest = events()[-1]
    newest.verb = "forged"
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_event SET verb = %s, hash = %s WHERE id = %s",
            ["forged", compute_hash(newest), newest.pk],
        )
    assert verify_chain() == (True, None, "")
    status, out, err = cli(monkeypatch, capsys, "--expect-head", head)
    assert status == 1
    assert f"CommandError: Audit chain rewritten: event {newest.pk} has hash" in err


@pytest.mark.parametrize("value", ["12", "abc:def", "0:" + "a" * 64, "1:" + "g" * 64])
def test_a_malformed_expected_head_is_refused(world, value):
    with pytest.raises(CommandError, match="expected ID:HASH"):
        verify("--expect-head", value)
