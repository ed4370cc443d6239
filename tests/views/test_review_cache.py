"""The review page's cached section rows are never stale and never carry another request's
CSRF token or nonce: whatever changes what a row shows, or what the reader may do with it,
shows on the next render (page and section fragment alike)."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checklists.models import Item
from reviews.models import Response
from reviews.services import (
    finding_raise,
    response_save,
    review_submit,
    review_withdraw,
    signoff_create,
    spec_post_revision,
)
from reviews.views import sections
from reviews.views.rows import CSRF_SLOT, Rows
from tests.reviews.factories import make_big_version, make_sectioned_version, make_world

pytestmark = pytest.mark.django_db

FETCH = {"X-Requested-With": "XMLHttpRequest"}
# Session, user, review, role, answers (narrow), findings, sign-offs, spec authors, overrides,
# reviewers, timeline; the full rows only of sections whose HTML is not cached yet.
WARM_QUERIES = 11
COLD_QUERIES = WARM_QUERIES + 1


@pytest.fixture
def world(db):
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    return world


def _page(world, query=""):
    return reverse("reviews:review", args=[world.review.pk]) + query


def _fragment(world, section_id):
    return reverse("reviews:section_rows", args=[world.review.pk, section_id])


def _row(body: str, item) -> str:
    match = re.search(rf'<li class="[^"]*" id="item-{item.pk}".*?</li>', body, re.S)
    assert match, f"item {item.pk} is not on the page"
    return match.group(0)


def _get(client, url, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response.content.decode()


def _first_item(world):
    return world.version.items.order_by("position").first()


def _section(world):
    return world.version.sections.get(parent=None)


def _normalised(body: str) -> str:
    """The page without what differs between two requests by design (token, nonce)."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "TOKEN", body)
    return re.sub(r'nonce="[^"]+"', "NONCE", body)


# --- the cache is used ----------------------------------------------------------------------


def test_an_unchanged_page_comes_from_the_cache(world, client):
    client.force_login(world.reviewer)
    with CaptureQueriesContext(connection) as cold:
        first = _get(client, _page(world))
    with CaptureQueriesContext(connection) as warm:
        second = _get(client, _page(world))
    assert len(warm) == len(cold) - 1  # no full read of the rows
    assert _normalised(first) == _normalised(second)
    assert _row(second, _first_item(world)).count('name="csrfmiddlewaretoken"') == 1


def test_page_and_fragment_share_a_key(db):
    """The page keys a section by its narrow rows, the fragment (and a page rendering rows it
    had not cached) by its full rows: the same section gives the same key either way."""
    world = make_world(version=make_sectioned_version("keys", 3, 6))
    items = list(world.version.items.order_by("position"))
    response_save(actor=world.reviewer, review=world.review, item_id=items[0].pk, verdict="pass")
    response_save(
        actor=world.lead, review=world.review, item_id=items[7].pk, verdict="fail", note="x"
    )
    outline = sections.Outline(sections.page_rows(world.review))
    fragments = sections.SectionFragments(world.review, can_answer=True, mode="all")
    assert len(outline.sections) == 3
    for sid, sec in outline.sections.items():
        values = Rows(world.review, top_section_ids=[sid]).values
        assert fragments.key(sid, sections._key_rows_from_page(sec["rows"])) == fragments.key(
            sid, sections._key_rows_from_values(values)
        )


# --- never stale --------------------------------------------------------------------------------


def test_an_answer_by_someone_else_shows_on_the_next_render(world, client):
    item = _first_item(world)
    client.force_login(world.reviewer)
    before = _row(_get(client, _page(world)), item)
    _get(client, _fragment(world, _section(world).pk), headers=FETCH)
    assert 'value="fail" checked' not in before
    response_save(
        actor=world.lead,
        review=world.review,
        item_id=item.pk,
        verdict="fail",
        note="<b>broken</b>",
    )
    for body in (
        _get(client, _page(world)),
        _get(client, _fragment(world, _section(world).pk), headers=FETCH),
    ):
        row = _row(body, item)
        assert 'value="fail" checked' in row
        assert 'name="version" value="2"' in row
        assert "&lt;b&gt;broken&lt;/b&gt;" in row and "<b>broken</b>" not in row
        assert world.lead.label in row


def test_a_new_note_by_the_same_person_shows(world, client):
    """Same verdict, same answerer: only the note and the answer's version move."""
    item = _first_item(world)
    save = {"actor": world.reviewer, "review": world.review, "item_id": item.pk}
    response_save(**save, verdict="fail", note="first note")
    client.force_login(world.reviewer)
    assert "first note" in _row(_get(client, _page(world)), item)
    response_save(**save, verdict="fail", note="second note")
    row = _row(_get(client, _page(world)), item)
    assert "second note" in row and "first note" not in row


def test_a_renamed_answerer_shows_by_the_new_name(world, client):
    item = _first_item(world)
    response_save(actor=world.lead, review=world.review, item_id=item.pk, verdict="pass")
    client.force_login(world.reviewer)
    assert world.lead.label in _row(_get(client, _page(world)), item)
    world.lead.display_name = "Renamed Lead"
    world.lead.save(update_fields=["display_name"])
    row = _row(_get(client, _page(world)), item)
    assert "Renamed Lead" in row


def test_a_new_revision_shows_the_re_check(world, client):
    item = _first_item(world)
    response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="fail", note="no"
    )
    client.force_login(world.reviewer)
    assert 'value="fail" checked' in _row(_get(client, _page(world)), item)
    spec_post_revision(actor=world.author, spec=world.spec, label="r2")
    row = _row(_get(client, _page(world)), item)
    assert 'value="fail" checked' not in row and "re-check" in row


def test_a_read_only_review_loses_its_forms(world, client):
    item = _first_item(world)
    client.force_login(world.reviewer)
    assert 'class="save"' in _row(_get(client, _page(world)), item)
    assert 'class="save"' in _get(client, _fragment(world, _section(world).pk), headers=FETCH)
    review_withdraw(actor=world.author, review=world.review, reason="Not needed")
    for body in (
        _get(client, _page(world)),
        _get(client, _fragment(world, _section(world).pk), headers=FETCH),
    ):
        row = _row(body, item)
        assert 'class="save"' not in row
        assert 'value="pass" disabled' in row and " readonly" in row


def test_each_reader_gets_the_markup_of_their_rights(world):
    item = _first_item(world)
    reviewer, viewer = Client(), Client()
    reviewer.force_login(world.reviewer)
    viewer.force_login(world.viewer)
    fragment = _fragment(world, _section(world).pk)
    for _ in range(2):  # each of them twice: after the other, from the cache
        for body in (_get(reviewer, _page(world)), _get(reviewer, fragment, headers=FETCH)):
            row = _row(body, item)
            assert 'class="save"' in row and 'value="pass" disabled' not in row
        for body in (_get(viewer, _page(world)), _get(viewer, fragment, headers=FETCH)):
            row = _row(body, item)
            assert 'class="save"' not in row and 'value="pass" disabled' in row


def test_the_mine_filter_shows_each_reader_their_own_answers(world):
    first, second = list(world.version.items.order_by("position"))[:2]
    response_save(actor=world.reviewer, review=world.review, item_id=first.pk, verdict="pass")
    response_save(actor=world.reviewer2, review=world.review, item_id=second.pk, verdict="pass")
    one, two = Client(), Client()
    one.force_login(world.reviewer)
    two.force_login(world.reviewer2)
    for _ in range(2):
        mine = _get(one, _page(world, "?filter=mine"))
        assert f'id="item-{first.pk}"' in mine and f'id="item-{second.pk}"' not in mine
        mine = _get(two, _page(world, "?filter=mine"))
        assert f'id="item-{second.pk}"' in mine and f'id="item-{first.pk}"' not in mine


def test_an_error_shown_once_is_not_kept(world, client):
    """A refused save re-renders the page with the error at the item: that section is not
    cached, and the next page shows the item as it is."""
    item = world.items()["item-0"]
    client.force_login(world.reviewer)
    _get(client, _page(world))
    url = reverse("reviews:answer", args=[world.review.pk, item.pk])
    refused = client.post(url, {"verdict": "fail", "note": "", "version": 1})
    assert refused.status_code == 400
    assert "A fail needs a note" in _row(refused.content.decode(), item)
    row = _row(_get(client, _page(world)), item)
    assert "A fail needs a note" not in row and 'value="fail" checked' not in row


def test_every_text_is_escaped_fresh_and_cached(db, client):
    """Titles, item texts, names, notes, findings, the gate's blocking list and the timeline:
    rendered in Python now, escaped all the same (the second render comes from the cache)."""
    evil = "<img src=x onerror=alert(1)>"
    version = make_sectioned_version("evil", 2, 4)
    version.title = f"Checklist {evil}"
    version.save(update_fields=["title"])
    version.sections.update(title=f"Section {evil}")
    version.items.update(text=f"Text {evil}", guidance=f"Guide {evil}\nline", rationale=evil)
    world = make_world(version=version)
    review_submit(actor=world.author, review=world.review)
    world.reviewer.display_name = f"Name {evil}"
    world.reviewer.save(update_fields=["display_name"])
    item = world.version.items.order_by("position").first()
    response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="fail", note=evil
    )
    finding_raise(
        actor=world.reviewer,
        review=world.review,
        severity="critical",
        title=f"Finding {evil}",
        location=evil,
        impact=f"{evil}\n{evil}",
        recommendation=evil,
    )
    client.force_login(world.lead)
    for _ in range(2):
        body = _get(client, _page(world, "?all=1"))
        assert "<img" not in body
        escaped = "&lt;img src=x onerror=alert(1)&gt;"
        for text in (
            f"Checklist {escaped}",
            f"Section {escaped}",
            f"Text {escaped}",
            f"Name {escaped}",
            f"Finding {escaped}",
            f"{escaped}<br>{escaped}",
        ):
            assert text in body, text
        for section in world.version.sections.filter(parent=None):
            fragment = _get(client, _fragment(world, section.pk), headers=FETCH)
            assert "<img" not in fragment and f"Text {escaped}" in fragment


# --- tokens and nonces ----------------------------------------------------------------------------


def test_cached_rows_hold_no_token(world, client, monkeypatch):
    stored = {}
    original = sections.SectionFragments.set_many

    def spy(self, entries):
        stored.update(entries)
        return original(self, entries)

    monkeypatch.setattr(sections.SectionFragments, "set_many", spy)
    client.force_login(world.reviewer)
    body = _get(client, _page(world))
    _get(client, _fragment(world, _section(world).pk), headers=FETCH)
    assert stored
    for html in stored.values():
        assert CSRF_SLOT in html and "csrfmiddlewaretoken" not in html and "nonce" not in html
    assert CSRF_SLOT not in body
    assert body.count('name="csrfmiddlewaretoken"') > len(world.items())


def test_rows_from_the_cache_post_with_the_readers_own_token(world):
    """Two sessions read the same cached rows; each one's forms carry a token that its own
    session accepts (and the other's does not)."""
    item = _first_item(world)
    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    one.force_login(world.reviewer)
    two.force_login(world.reviewer2)

    def token(body):
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _row(body, item)).group(1)

    mine, theirs = token(_get(two, _page(world))), token(_get(one, _page(world)))
    url = reverse("reviews:answer", args=[world.review.pk, item.pk])
    data = {"verdict": "pass", "version": 1}
    assert two.post(url, {**data, "csrfmiddlewaretoken": theirs}).status_code == 403
    assert two.post(url, {**data, "csrfmiddlewaretoken": mine}).status_code == 302
    assert Response.objects.get(review=world.review, item=item).answered_by == world.reviewer2


def test_every_page_gets_its_own_nonce(world, client):
    client.force_login(world.reviewer)
    nonces = []
    for _ in range(2):
        response = client.get(_page(world))
        header = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        body = response.content.decode()
        assert re.findall(r'nonce="([^"]+)"', body) == [header]
        nonces.append(header)
    assert nonces[0] != nonces[1]


# --- a cache that is down only costs the rendering --------------------------------------------


def test_the_page_renders_without_a_cache(world, client, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(sections.cache, "get_many", down)
    monkeypatch.setattr(sections.cache, "set_many", down)
    client.force_login(world.reviewer)
    body = _get(client, _page(world))
    assert 'class="save"' in _row(body, _first_item(world))
    assert _get(client, _fragment(world, _section(world).pk), headers=FETCH).count(
        'class="item '
    ) == len(world.items())


# --- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 1000])
@pytest.mark.parametrize("who", ["viewer", "reviewer", "lead"])
def test_page_queries_cold_and_warm(size, who, client, django_assert_max_num_queries):
    world = make_world(version=make_big_version(f"cache-{size}", size))
    review_submit(actor=world.author, review=world.review)
    signoff_create(actor=world.reviewer, review=world.review)
    finding_raise(actor=world.reviewer, review=world.review, severity="critical", title="Bad")
    item = Item.objects.filter(version=world.version).order_by("position").first()
    response_save(actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass")
    client.force_login(getattr(world, who))
    for query in ("", "?all=1", "?filter=open"):
        with django_assert_max_num_queries(COLD_QUERIES):
            _get(client, _page(world, query))
        with django_assert_max_num_queries(WARM_QUERIES):
            _get(client, _page(world, query))
