"""No lost updates: eight clients answer overlapping items (some with stale versions) and sign
off at the same time, through the services, each on its own database connection. Afterwards
every accepted write is there, every refused one was told why, the review's answer counters
agree with the rows, and the gate agrees with the rows whether computed afresh or read through
the read cache (clients read it through the API while others write). PostgreSQL only: SQLite
serialises every writer, so there is no race to lose."""

import json
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Count
from rest_framework.test import APIClient

from audit.models import Event
from config.errors import Conflict, InvalidInput, NotFound
from reviews.gate import evaluate_gate, spec_authors
from reviews.models import (
    GateRule,
    Membership,
    Response,
    Review,
    Role,
    SignOff,
    SignOffRole,
    Spec,
    Verdict,
)
from reviews.services import (
    membership_remove,
    membership_set,
    response_save,
    review_submit,
    signoff_create,
    spec_post_revision,
)
from tests.reviews.factories import make_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="concurrency needs PostgreSQL (SQLite serialises writers)",
    ),
]

CLIENTS = 8
OPS_PER_CLIENT = 30
DEADLINE_SECONDS = 5.0


@dataclass
class Log:
    accepted: list = field(default_factory=list)  # (item_id, version, verdict, note)
    unchanged: int = 0
    refused: list = field(default_factory=list)  # (kind, code, message, details)
    signoffs: list = field(default_factory=list)  # SignOff ids accepted
    gate_reads: int = 0
    unexpected: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def gate_url(review_id):
    return f"/api/v1/reviews/{review_id}/gate/"


def api_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _client(index, user, review_id, item_ids, log, start, deadline):
    rng = random.Random(index)
    seen: dict[int, int] = {}  # item → the version this client last read (may go stale)
    api = api_as(user)
    try:
        start.wait()
        review = Review.objects.get(pk=review_id)
        for _ in range(OPS_PER_CLIENT):
            if time.monotonic() > deadline:
                break
            try:
                draw = rng.random()
                if draw < 0.15:  # the gate, through the API and its read cache
                    answer = api.get(gate_url(review_id))
                    with log.lock:
                        if answer.status_code == 200:
                            log.gate_reads += 1
                        else:
                            log.unexpected.append(("gate", answer.status_code))
                    continue
                if draw < 0.30:
                    signoff = signoff_create(actor=user, review=review, comment=f"c{index}")
                    with log.lock:
                        log.signoffs.append(signoff.pk)
                    continue
                item_id = rng.choice(item_ids)
                if item_id not in seen or rng.random() < 0.5:
                    seen[item_id] = Response.objects.get(review=review, item_id=item_id).version
                verdict = rng.choice(["pass", "fail", "na"])
                # A fail without a note is invalid input; the rest carry a unique note.
                note = "" if rng.random() < 0.1 else f"client {index} op {rng.random():.6f}"
                response, changed = response_save(
                    actor=user,
                    review=review,
                    item_id=item_id,
                    verdict=verdict,
                    note=note,
                    version=seen[item_id],
                )
                with log.lock:
                    if changed:
                        log.accepted.append((item_id, response.version, verdict, response.note))
                    else:
                        log.unchanged += 1
                seen[item_id] = response.version
            except (Conflict, InvalidInput) as exc:
                with log.lock:
                    log.refused.append((type(exc).__name__, exc.code, exc.message, exc.details))
    except Exception as exc:  # noqa: BLE001 - reported to the main thread
        with log.lock:
            log.unexpected.append(repr(exc))
    finally:
        connection.close()


def test_no_lost_updates_under_load():
    world = make_world(required_signoffs=2)
    review_submit(actor=world.author, review=world.review)
    item_ids = list(world.review.responses.values_list("item_id", flat=True))
    initial = dict(world.review.responses.values_list("item_id", "version"))
    actors = [world.reviewer, world.reviewer2, world.lead, world.lead2]
    for actor in actors:  # cache every reader's gate as it was before the run
        assert api_as(actor).get(gate_url(world.review.pk)).status_code == 200
    log = Log()
    start = threading.Event()
    deadline = time.monotonic() + DEADLINE_SECONDS
    threads = [
        threading.Thread(
            target=_client,
            args=(i, actors[i % len(actors)], world.review.pk, item_ids, log, start, deadline),
        )
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not log.unexpected, log.unexpected
    assert len(log.accepted) >= 10, "the run did not exercise concurrent saves"
    assert any(code == "stale_version" for _, code, _, _ in log.refused), "no stale write tried"
    assert log.gate_reads >= 5, "the run did not read the gate while writing"

    # Every accepted change is there: versions per item are 1..n with no gap and no repeat,
    # and the answer in the database is the last accepted one.
    by_item = defaultdict(list)
    for item_id, version, verdict, note in log.accepted:
        by_item[item_id].append((version, verdict, note))
    final = {r.item_id: r for r in Response.objects.filter(review=world.review)}
    for item_id in item_ids:
        accepted = sorted(by_item[item_id])
        versions = [version for version, _, _ in accepted]
        assert versions == list(range(initial[item_id] + 1, initial[item_id] + 1 + len(accepted)))
        assert final[item_id].version == initial[item_id] + len(accepted)
        if accepted:
            _, verdict, note = accepted[-1]
            assert (final[item_id].verdict, final[item_id].note) == (verdict, note)
    answered_events = Event.objects.filter(
        review_id=world.review.pk, verb="response.answered"
    ).count()
    assert answered_events == len(log.accepted)

    # Every refusal said why.
    for kind, code, message, details in log.refused:
        assert message, (kind, code)
        if code == "stale_version":
            assert details["current"]["version"] >= 1
        if kind == "InvalidInput":
            assert details, message

    # Every accepted sign-off was stored; nobody has two current ones.
    assert SignOff.objects.filter(pk__in=log.signoffs).count() == len(log.signoffs)
    current = list(
        SignOff.objects.filter(
            review=world.review, stale=False, role=SignOffRole.REVIEWER
        ).values_list("user_id", flat=True)
    )
    assert len(current) == len(set(current))

    # The answer counters kept by the services agree with the answer rows.
    review = Review.objects.get(pk=world.review.pk)
    rows = dict(
        Response.objects.filter(review=review)
        .values("verdict")
        .annotate(n=Count("id"))
        .values_list("verdict", "n")
    )
    counters = {verdict: getattr(review, f"answers_{verdict}") for verdict in Verdict.values}
    assert counters == {verdict: rows.get(verdict, 0) for verdict in Verdict.values}
    assert sum(counters.values()) == len(item_ids)

    # The gate is deterministic and counts what the rows say.
    first, second = evaluate_gate(review, world.lead), evaluate_gate(review, world.lead)
    assert first.as_dict() == second.as_dict()
    rule = next(r for r in first.rules if r.rule == GateRule.SIGNOFFS)
    have = len(set(current) - spec_authors(review))
    assert rule.message.startswith(f"{have} of 2 required")

    # Read through the cache as the API serves it, every reader's gate is the fresh one: no
    # entry cached before or during the run outlives the writes.
    for actor in actors:
        fresh = evaluate_gate(Review.objects.get(pk=review.pk), actor).as_dict()
        cached = api_as(actor).get(gate_url(review.pk))
        assert cached.status_code == 200
        assert cached.json() == json.loads(json.dumps(fresh, cls=DjangoJSONEncoder)), actor
    call_command("verify_audit")


# --- one lock order: no deadlock between services ----------------------------------------------

ROUNDS = 15


def _race(rounds: int, *workers) -> list[list]:
    """Run each ``worker(round)`` in its own thread (own connection), all released together,
    ``rounds`` times; return each worker's outcome per round (its result or the exception)."""
    outcomes = [[] for _ in workers]
    for round_number in range(rounds):
        barrier = threading.Barrier(len(workers))

        def run(index, worker, round_number=round_number, barrier=barrier):
            try:
                barrier.wait(timeout=10)
                outcomes[index].append(worker(round_number))
            except Exception as exc:  # noqa: BLE001 - judged by the test
                outcomes[index].append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return outcomes


def test_a_revision_posted_while_answers_are_saved_does_not_deadlock():
    """spec_post_revision locks the spec, then its reviews, then the audit chain — the order
    every answer save follows (review, response, audit chain) — so neither waits for the other
    in a cycle (PostgreSQL's ``deadlock detected``), and no write is lost."""
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    first, second = list(
        world.review.responses.order_by("item_id").values_list("item_id", flat=True)
    )[:2]

    def post(round_number):
        revision, created = spec_post_revision(
            actor=world.author, spec=world.spec, label=f"r{round_number + 2}"
        )
        return revision.label if created else None

    def answer(item_id, actor):
        def save(round_number):
            response, changed = response_save(
                actor=actor,
                review=world.review,
                item_id=item_id,
                verdict=Verdict.PASS,
                note=f"round {round_number}",
            )
            return response.version if changed else None

        return save

    started = time.monotonic()
    posted, saved, saved2 = _race(
        ROUNDS, post, answer(first, world.reviewer), answer(second, world.lead)
    )
    failures = [o for o in posted + saved + saved2 if isinstance(o, Exception)]
    assert failures == [], failures
    assert time.monotonic() - started < 60
    spec = Spec.objects.get(pk=world.spec.pk)
    assert spec.revision_number == 1 + ROUNDS and spec.revision_label == f"r{ROUNDS + 1}"
    assert posted == [f"r{n + 2}" for n in range(ROUNDS)]
    for item_id, versions in ((first, saved), (second, saved2)):
        response = Response.objects.get(review=world.review, item_id=item_id)
        assert versions == list(range(2, ROUNDS + 2))  # every save acknowledged, in order
        assert (response.verdict, response.note) == (Verdict.PASS, f"round {ROUNDS - 1}")
        assert response.version == ROUNDS + 1
    call_command("verify_audit")


def test_changing_and_removing_a_membership_at_once_does_not_deadlock():
    """membership_remove locks the project like membership_set does, before the audit chain:
    a lead changing a member's role while another removes them ends in one of the two orders,
    never a deadlock or a save of a row deleted under it."""
    world = make_world()
    member = world.reviewer2
    outcomes = []

    def change(round_number):
        membership, created = membership_set(
            actor=world.lead, project=world.project, email=member.email, role=Role.AUTHOR
        )
        return "added" if created else "changed"

    def remove(round_number):
        membership_remove(actor=world.lead2, project=world.project, email=member.email)
        return "removed"

    for _ in range(ROUNDS):
        membership_set(
            actor=world.lead, project=world.project, email=member.email, role=Role.REVIEWER
        )
        changed, removed = _race(1, change, remove)
        outcomes.append((changed[0], removed[0]))
        # Removing someone who is no longer a member is refused (404), not a failure.
        assert not isinstance(changed[0], Exception), outcomes
        assert removed[0] == "removed" or isinstance(removed[0], NotFound), outcomes
        last = (
            Event.objects.filter(project_id=world.project.pk, verb__startswith="membership.")
            .order_by("-id")
            .first()
        )
        current = Membership.objects.filter(project=world.project, user=member).first()
        if last.verb == "membership.removed":
            assert current is None
        else:
            assert current is not None and current.role == last.after["role"] == Role.AUTHOR
    call_command("verify_audit")
