"""The review page at size: a constant number of queries, sections beyond the first ones
rendered collapsed and loaded on demand (with and without JavaScript), and the answer paths
(browser and API) and the gate in a small constant number of queries."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from checklists.models import Item
from reviews.gate import evaluate_gate
from reviews.models import Response, Review
from reviews.services import (
    finding_raise,
    override_grant,
    response_save,
    review_submit,
    signoff_create,
)
from reviews.views.fragments import gate_panel_html
from tests.reviews.factories import make_big_version, make_sectioned_version, make_world

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}
FETCH = {"X-Requested-With": "XMLHttpRequest"}

PAGE_QUERIES = 12
# On PostgreSQL, every audit event also takes the chain's advisory lock.
EVENT_LOCK = 1 if connection.vendor == "postgresql" else 0
# Reading the user, the review and the role (4), the save (9; four more per sign-off that
# goes stale, one of them the webhook outbox's look-up of the project's webhooks), the row,
# progress and gate panel (2), the sign-offs and the spec's authors for the actions panel and
# the sign-off list, which the save may have made stale (2).
ANSWER_QUERIES = 17 + EVENT_LOCK
STALE_SIGNOFF_QUERIES = 4 + EVENT_LOCK
PATCH_QUERIES = 14 + EVENT_LOCK
GATE_QUERIES = 10  # with the head of the audit chain, which keys the cached answer
SECTION_QUERIES = 5


def _sections(version):
    return list(version.sections.filter(parent=None).order_by("position"))


def _page(world):
    return reverse("reviews:review", args=[world.review.pk])


def _rows(body: str) -> int:
    return body.count('class="item ')


@pytest.fixture
def sectioned(db):
    world = make_world(version=make_sectioned_version("sectioned", 8, 125))
    review_submit(actor=world.author, review=world.review)
    return world


# --- the page: queries and what it renders ---------------------------------------------------


@pytest.mark.parametrize("size", [10, 1000])
@pytest.mark.parametrize("who", ["viewer", "reviewer", "lead"])
def test_review_page_queries_do_not_grow(size, who, client, django_assert_max_num_queries):
    world = make_world(version=make_big_version(f"page-{size}", size))
    review_submit(actor=world.author, review=world.review)
    signoff_create(actor=world.reviewer, review=world.review)
    finding_raise(actor=world.reviewer, review=world.review, severity="critical", title="Bad")
    client.force_login(getattr(world, who))
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert client.get(_page(world)).status_code == 200
    with django_assert_max_num_queries(PAGE_QUERIES):
        resp = client.get(_page(world) + "?all=1")
    assert _rows(resp.content.decode()) == size
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert client.get(_page(world) + "?filter=open").status_code == 200


def test_only_the_first_sections_are_rendered(sectioned, client):
    client.force_login(sectioned.reviewer)
    body = client.get(_page(sectioned)).content.decode()
    sections = _sections(sectioned.version)
    # The first section with open items is rendered; the next one would not fit the budget.
    assert _rows(body) == 125
    first_item = sectioned.version.items.order_by("position").first()
    assert f'id="item-{first_item.pk}"' in body
    for section in sections[1:]:
        src = reverse("reviews:section_rows", args=[sectioned.review.pk, section.pk])
        assert f'data-src="{src}"' in body
        # Without JavaScript, the section's link opens the page with the section rendered.
        assert f'href="?section={section.pk}#section-{section.pk}"' in body
    # Every section shows its progress, collapsed or not.
    for section in sections:
        assert f'data-progress="section-{section.pk}"' in body
        assert f'data-counts="section-{section.pk}"' in body
    assert 'data-progress="overall"' in body and "(0/1000)" in body


def test_answered_sections_give_way_to_open_ones(sectioned, client):
    first, second = _sections(sectioned.version)[:2]
    Response.objects.filter(review=sectioned.review, item__section=first).update(verdict="pass")
    client.force_login(sectioned.reviewer)
    body = client.get(_page(sectioned)).content.decode()
    item = Item.objects.filter(section__parent=second).order_by("position").first()
    assert f'id="item-{item.pk}"' in body
    assert (
        f'data-src="{reverse("reviews:section_rows", args=[sectioned.review.pk, first.pk])}"'
        in body
    )
    assert _rows(body) == 125


def test_section_query_renders_that_section_without_js(sectioned, client):
    client.force_login(sectioned.reviewer)
    last = _sections(sectioned.version)[-1]
    body = client.get(_page(sectioned) + f"?section={last.pk}").content.decode()
    item = Item.objects.filter(section=last).order_by("position").last()
    assert f'id="item-{item.pk}"' in body
    assert _rows(body) == 250
    body = client.get(_page(sectioned) + f"?item={item.pk}").content.decode()
    assert f'id="item-{item.pk}"' in body
    assert _rows(client.get(_page(sectioned) + "?all=1").content.decode()) == 1000


def test_answering_without_js_comes_back_to_the_item(sectioned, client):
    last = _sections(sectioned.version)[-1]
    item = Item.objects.filter(section=last).order_by("position").last()
    client.force_login(sectioned.reviewer)
    url = reverse("reviews:answer", args=[sectioned.review.pk, item.pk])
    resp = client.post(url, {"verdict": "pass", "version": 1})
    assert resp.status_code == 302
    assert resp["Location"] == _page(sectioned) + f"?item={item.pk}#item-{item.pk}"
    body = client.get(resp["Location"].split("#")[0]).content.decode()
    assert f'id="item-{item.pk}"' in body and 'value="pass" checked' in body
    # An error re-renders the page with the item's section open and the input kept.
    resp = client.post(url, {"verdict": "fail", "note": "", "version": 2})
    assert resp.status_code == 400
    assert f'id="err-{item.pk}">A fail needs a note' in resp.content.decode()


def test_filters_render_the_first_matching_rows(sectioned, client):
    last = _sections(sectioned.version)[-1]
    item = Item.objects.filter(section=last).order_by("position").last()
    response_save(
        actor=sectioned.reviewer,
        review=sectioned.review,
        item_id=item.pk,
        verdict="fail",
        note="bad",
    )
    client.force_login(sectioned.reviewer)
    failed = client.get(_page(sectioned) + "?filter=failed").content.decode()
    assert _rows(failed) == 1 and f'id="item-{item.pk}"' in failed
    # "Open" keeps the sections lazy: the first one with open items (the next would not fit
    # the budget), the others collapsed (issue 16, defect 8).
    assert _rows(client.get(_page(sectioned) + "?filter=open").content.decode()) == 125
    assert _rows(client.get(_page(sectioned) + "?filter=mine").content.decode()) == 1


def test_gate_links_open_the_section_of_the_item(sectioned, client):
    client.force_login(sectioned.lead)
    body = client.get(_page(sectioned)).content.decode()
    item = Item.objects.filter(version=sectioned.version, is_gate=True).order_by("position")[0]
    assert f'href="?item={item.pk}#item-{item.pk}"' in body


# --- the section fragment ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 125])
def test_section_fragment(size, client, django_assert_max_num_queries):
    world = make_world(version=make_sectioned_version(f"frag-{size}", 3, size))
    client.force_login(world.reviewer)
    sections = _sections(world.version)
    for section in sections:
        url = reverse("reviews:section_rows", args=[world.review.pk, section.pk])
        with django_assert_max_num_queries(SECTION_QUERIES):
            resp = client.get(url, headers=FETCH)
        assert resp.status_code == 200
        body = resp.content.decode()
        assert _rows(body) == size
        assert "csrfmiddlewaretoken" in body and 'name="verdict"' in body
        assert "<html" not in body
    # Groups keep their headings.
    grouped = reverse("reviews:section_rows", args=[world.review.pk, sections[1].pk])
    if size > 1:
        assert (
            '<h4 class="group">Group 1</h4>' in client.get(grouped, headers=FETCH).content.decode()
        )


def test_section_fragment_without_js_redirects_to_the_page(sectioned, client):
    client.force_login(sectioned.viewer)
    section = _sections(sectioned.version)[3]
    url = reverse("reviews:section_rows", args=[sectioned.review.pk, section.pk])
    resp = client.get(url)
    assert resp.status_code == 302
    assert resp["Location"] == _page(sectioned) + f"?section={section.pk}#section-{section.pk}"


def test_section_fragment_visibility_and_errors(sectioned, client):
    section = _sections(sectioned.version)[3]
    url = reverse("reviews:section_rows", args=[sectioned.review.pk, section.pk])
    client.force_login(sectioned.outsider)
    assert client.get(url, headers=FETCH).status_code == 404
    client.force_login(sectioned.viewer)
    body = client.get(url, headers=FETCH).content.decode()
    assert 'value="pass" disabled' in body
    other = make_world()
    foreign = other.version.sections.get()
    bad = reverse("reviews:section_rows", args=[sectioned.review.pk, foreign.pk])
    assert client.get(bad, headers=FETCH).status_code == 404
    client.logout()
    assert client.get(url, headers=FETCH).status_code == 302


def test_section_fragment_shows_the_latest_answers(sectioned, client):
    section = _sections(sectioned.version)[3]
    item = Item.objects.filter(section=section).order_by("position").first()
    url = reverse("reviews:section_rows", args=[sectioned.review.pk, section.pk])
    client.force_login(sectioned.reviewer)
    assert 'value="fail" checked' not in client.get(url, headers=FETCH).content.decode()
    response_save(
        actor=sectioned.lead,
        review=sectioned.review,
        item_id=item.pk,
        verdict="fail",
        note="<b>broken</b>",
    )
    body = client.get(url, headers=FETCH).content.decode()
    assert 'value="fail" checked' in body
    assert "&lt;b&gt;broken&lt;/b&gt;" in body and "<b>broken</b>" not in body


# --- answering and the gate ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 1000])
def test_json_answer_queries_do_not_grow(size, client, django_assert_max_num_queries):
    world = make_world(version=make_big_version(f"answer-{size}", size))
    review_submit(actor=world.author, review=world.review)
    finding_raise(actor=world.reviewer, review=world.review, severity="critical", title="Bad")
    signoff_create(actor=world.reviewer2, review=world.review)
    client.force_login(world.reviewer)
    items = list(world.version.items.order_by("position")[:2])
    for n, item in enumerate(items):
        url = reverse("reviews:answer", args=[world.review.pk, item.pk])
        # The first save makes the sign-off stale (an event and an update).
        limit = ANSWER_QUERIES + (STALE_SIGNOFF_QUERIES if n == 0 else 0)
        with django_assert_max_num_queries(limit):
            resp = client.post(url, {"verdict": "pass", "version": 1}, headers=JSON)
        assert resp.status_code == 200, resp.content
        data = resp.json()
        assert data["progress"]["overall"]["total"] == size
        assert data["progress"]["overall"]["pass"] == n + 1
        assert data["progress"]["section"]["pass"] == n + 1
        assert "blocked" in data["gate_html"]
        assert "0 of 1 required reviewer sign-off" in data["gate_html"]
    # A save that changes nothing reads the sign-offs and overrides.
    with django_assert_max_num_queries(ANSWER_QUERIES + 2):
        resp = client.post(url, {"verdict": "pass", "version": 2}, headers=JSON)
    assert resp.json()["changed"] is False


def test_json_answer_in_a_group_updates_its_section(sectioned, client):
    second = _sections(sectioned.version)[1]
    item = Item.objects.filter(section__parent=second).order_by("position").last()
    client.force_login(sectioned.reviewer)
    url = reverse("reviews:answer", args=[sectioned.review.pk, item.pk])
    data = client.post(url, {"verdict": "pass", "version": 1}, headers=JSON).json()
    assert data["progress"]["section"] == {
        "id": second.pk,
        "total": 125,
        "answered": 1,
        "pass": 1,
        "fail": 0,
        "na": 0,
        "unanswered": 124,
        "percent": 1,
    }
    assert f'id="item-{item.pk}"' in data["row_html"]


@pytest.mark.parametrize("size", [10, 1000])
def test_api_patch_and_gate_queries_do_not_grow(size, client, django_assert_max_num_queries):
    world = make_world(version=make_big_version(f"api-{size}", size))
    review_submit(actor=world.author, review=world.review)
    signoff_create(actor=world.reviewer2, review=world.review)
    client.force_login(world.reviewer)
    item = world.version.items.order_by("position").first()
    url = f"/api/v1/reviews/{world.review.pk}/responses/{item.pk}/"
    with django_assert_max_num_queries(PATCH_QUERIES + STALE_SIGNOFF_QUERIES):
        resp = client.patch(url, {"verdict": "pass", "version": 1}, content_type="application/json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["verdict"], body["version"], body["item"]["key"]) == ("pass", 2, item.key)
    assert body["answered_by"] == world.reviewer.email
    assert resp["ETag"] == '"2"'
    assert client.get(url).json() == body
    client.force_login(world.lead)
    with django_assert_max_num_queries(GATE_QUERIES):
        resp = client.get(f"/api/v1/reviews/{world.review.pk}/gate/")
    assert resp.status_code == 200
    assert resp.json()["ready"] is False


@pytest.mark.parametrize("verdict", ["pass", "fail"])
def test_json_answer_gate_panel_is_the_gate_after_the_save(verdict, client):
    """The panel sent back after a save is the gate evaluated afresh (sign-offs gone stale and
    overrides lapsed included), and a save that changes nothing leaves the override alone."""
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    signoff_create(actor=world.reviewer2, review=world.review)
    override_grant(
        actor=world.lead, review=world.review, rule="must_items", justification="Known gap"
    )
    client.force_login(world.lead)
    item = world.items()["item-1"]
    url = reverse("reviews:answer", args=[world.review.pk, item.pk])

    def fresh_panel():
        review = Review.objects.select_related("spec__project").get(pk=world.review.pk)
        gate = evaluate_gate(review, world.lead)
        # The rules, then the warnings (not blocking).
        bar = render_to_string("reviews/_gate_bar.html", {"gate": gate})
        warnings = render_to_string("reviews/_gate_warnings.html", {"gate": gate})
        return gate, bar + gate_panel_html(gate) + warnings

    note = "broken" if verdict == "fail" else ""
    data = client.post(url, {"verdict": verdict, "note": note, "version": 1}, headers=JSON).json()
    gate, panel = fresh_panel()
    assert data["changed"] is True
    assert data["gate_html"] == panel and data["gate"]["ready"] == gate.ready
    assert "Overridden by" not in panel and "0 of 1 required" in panel
    override_grant(
        actor=world.lead, review=world.review, rule="must_items", justification="Still known"
    )
    data = client.post(url, {"verdict": verdict, "note": note, "version": 2}, headers=JSON).json()
    gate, panel = fresh_panel()
    assert data["changed"] is False
    assert data["gate_html"] == panel and "Overridden by" in panel
