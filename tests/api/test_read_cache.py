"""Cached reads (audit/cache.py): served again only while nothing changed, never stale."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from audit.cache import cached_read, chain_head
from reviews import services

pytestmark = pytest.mark.django_db

LIST = "/api/v1/reviews/"


def progress_of(client, review_id):
    body = client.get(LIST).json()
    return next(r["progress"] for r in body["results"] if r["id"] == review_id)


def test_a_repeated_read_is_served_from_the_cache(world, as_user, django_assert_max_num_queries):
    client = as_user(world.lead)
    first = client.get(LIST)
    with django_assert_max_num_queries(2) as captured:  # the token and the chain head
        again = client.get(LIST)
    assert again.json() == first.json()
    assert any('FROM "audit_event"' in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize(
    "path", [LIST, "/api/v1/reviews/{rid}/responses/", "/api/v1/reviews/{rid}/gate/"]
)
def test_an_answer_is_seen_at_once_by_every_cached_read(world, as_user, path):
    services.review_submit(actor=world.author, review=world.review)
    reader = as_user(world.lead)
    path = path.format(rid=world.review.pk)
    before = reader.get(path).json()
    assert reader.get(path).json() == before  # cached now
    item = world.items()["item-0"]
    writer = as_user(world.reviewer)
    saved = writer.patch(
        f"/api/v1/reviews/{world.review.pk}/responses/{item.pk}/",
        {"verdict": "pass"},
        format="json",
    )
    assert saved.status_code == 200
    assert reader.get(path).json() != before


def test_progress_in_the_list_follows_answers(world, as_user):
    services.review_submit(actor=world.author, review=world.review)
    reader = as_user(world.lead)
    assert progress_of(reader, world.review.pk)["answered"] == 0
    services.response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=world.items()["item-1"].pk,
        verdict="fail",
        note="no error table",
    )
    progress = progress_of(reader, world.review.pk)
    assert (progress["answered"], progress["fail"]) == (1, 1)


def test_each_reader_gets_their_own_answer(world, as_user):
    assert len(as_user(world.lead).get(LIST).json()["results"]) == 1
    assert as_user(world.outsider).get(LIST).json()["results"] == []
    # Made superuser in the admin (no event): the next read is not the cached one.
    world.outsider.is_superuser = True
    world.outsider.save(update_fields=["is_superuser"])
    assert len(as_user(world.outsider).get(LIST).json()["results"]) == 1


def test_a_gate_relying_on_an_expiring_override_is_cached_no_longer_than_it_holds(
    world, as_user, monkeypatch
):
    services.review_submit(actor=world.author, review=world.review)
    services.override_grant(
        actor=world.lead,
        review=world.review,
        rule="signoffs",
        justification="Only one reviewer this week.",
        expires_at=timezone.now() + timedelta(seconds=90),
    )
    lifetimes = []
    real_set = cache.set
    monkeypatch.setattr(
        cache,
        "set",
        lambda key, value, timeout: (lifetimes.append(timeout), real_set(key, value, timeout)),
    )
    gate = as_user(world.lead2).get(f"/api/v1/reviews/{world.review.pk}/gate/").json()
    rule = next(r for r in gate["rules"] if r["rule"] == "signoffs")
    assert rule["status"] == "overridden"
    assert lifetimes and 0 < lifetimes[-1] <= 90


def test_setting_zero_turns_the_cache_off(world, settings):
    settings.SPECGATE_READ_CACHE_SECONDS = 0
    calls = []
    for _ in range(2):
        cached_read(world.lead, ("x",), lambda: calls.append(1) or len(calls))
    assert len(calls) == 2


def test_the_head_moves_with_every_event(world):
    head = chain_head()
    services.review_submit(actor=world.author, review=world.review)
    assert chain_head() > head


def test_the_dashboard_is_cached_per_reader_and_follows_changes(world, client):
    client.force_login(world.reviewer)
    first = client.get("/").content.decode()
    assert f"#{world.review.pk} " in first
    services.review_withdraw(actor=world.lead, review=world.review, reason="Spec dropped.")
    again = client.get("/").content.decode()
    assert "Withdrawn" in again or f"#{world.review.pk} " not in again.split("My specs")[0]
    client.force_login(world.outsider)
    assert f"#{world.review.pk} " not in client.get("/").content.decode()


def test_the_cached_board_holds_nothing_per_request(world, client):
    client.force_login(world.reviewer)
    client.get("/")
    page = client.get("/").content.decode()
    board = page.split("<h1>Dashboard</h1>", 1)[1].split("</main>", 1)[0]
    assert "csrfmiddlewaretoken" not in board and "nonce=" not in board
