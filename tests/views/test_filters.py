"""Issue 16 defect 8: the review page's filters. "Open" rendered every open item at once (1,081
items, 1.48 MB), defeating the lazy sections, and "Failed" with no fails showed collapsed
sections and no "no failed items". With a filter the page lists only the sections that have
matching items, each with its count of them, renders the first ones and leaves the others
collapsed (fetched on demand, filtered too); an empty filter says so."""

import re

import pytest
from django.urls import reverse

from reviews.models import Response
from reviews.services import review_submit
from reviews.views.sections import SECTION_BUDGET
from tests.reviews.factories import make_sectioned_version, make_world

pytestmark = pytest.mark.django_db

FETCH = {"X-Requested-With": "XMLHttpRequest"}
SECTIONS, PER_SECTION = 20, 55  # 1,100 items, every one open


@pytest.fixture
def big(db):
    world = make_world(version=make_sectioned_version("filters", SECTIONS, PER_SECTION))
    review_submit(actor=world.author, review=world.review)
    return world


def _sections(world):
    return list(world.version.sections.filter(parent=None).order_by("position"))


def _page(world, query=""):
    return reverse("reviews:review", args=[world.review.pk]) + query


def _rows(body: str) -> int:
    return body.count('class="item ')


def test_open_keeps_the_sections_lazy(big, client):
    client.force_login(big.reviewer)
    everything = client.get(_page(big, "?all=1")).content
    response = client.get(_page(big, "?filter=open"))
    body = response.content.decode()
    # Bounded: the first sections that fit the budget (two of 55 rows), not all 1,100 items.
    assert _rows(body) == 2 * PER_SECTION <= SECTION_BUDGET
    assert len(response.content) < len(everything) / 5
    sections = _sections(big)
    for section in sections[2:]:
        # The others are listed collapsed, with their count of matching items, and open
        # filtered: fetched by the page script, or rendered by a plain link.
        src = reverse("reviews:section_rows", args=[big.review.pk, section.pk])
        assert f'data-src="{src}?filter=open"' in body
        assert f'href="?filter=open&amp;section={section.pk}#section-{section.pk}"' in body
    assert body.count(f'class="match-count">{PER_SECTION} open<') == SECTIONS
    # The lazy section comes filtered.
    last = sections[-1]
    Response.objects.filter(review=big.review, item__section=last, item__position__lt=(
        (SECTIONS - 1) * PER_SECTION + 50
    )).update(verdict="pass")  # fmt: skip
    fragment = client.get(
        reverse("reviews:section_rows", args=[big.review.pk, last.pk]) + "?filter=open",
        headers=FETCH,
    ).content.decode()
    assert _rows(fragment) == 5


def test_only_sections_with_matching_items_are_listed(big, client):
    sections = _sections(big)
    Response.objects.filter(review=big.review).update(verdict="pass")
    Response.objects.filter(review=big.review, item__section=sections[7], item__key__in=[
        "s7-i3", "s7-i4"
    ]).update(verdict="fail", note="broken")  # fmt: skip
    client.force_login(big.reviewer)
    body = client.get(_page(big, "?filter=failed")).content.decode()
    assert _rows(body) == 2
    assert 'class="match-count">2 failed<' in body
    listed = set(map(int, re.findall(r'id="section-(\d+)"', body)))
    assert listed == {sections[7].pk}


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("failed", "No failed items."),
        ("open", "No open items."),
        ("mine", "No items answered by you."),
    ],
)
def test_an_empty_filter_says_so(big, client, mode, message):
    if mode == "open":
        Response.objects.filter(review=big.review).update(verdict="pass")
    client.force_login(big.lead)
    body = client.get(_page(big, f"?filter={mode}")).content.decode()
    assert message in body
    assert _rows(body) == 0
    assert 'class="section"' not in body  # no empty, collapsed sections
