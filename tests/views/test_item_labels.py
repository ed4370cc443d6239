"""People read an item's text; its machine key is for curators and integrations, on demand.
Every place a reviewer reads an item names it by its text (shortened, the whole text in a
title where long), and screen readers hear the text too."""

import re
from html import unescape

import pytest
from django.urls import reverse

from checklists.models import Item
from reviews import services
from reviews.models import Verdict

pytestmark = pytest.mark.django_db

KEY = "every-endpoint-is-listed-with-its-method-path-and-157df4"
TEXT = (
    "Every endpoint is listed with its method, path, purpose, request and response bodies, "
    "error codes and the permissions it needs"
)


@pytest.fixture
def keyed(world):
    """The review's gate item, with a machine key unlike its (long) text."""
    item = Item.objects.get(version=world.version, is_gate=True)
    item.key, item.text = KEY, TEXT
    item.save(update_fields=["key", "text"])
    services.review_submit(actor=world.author, review=world.review)
    return world, item


def _page(client, world) -> str:
    response = client.get(reverse("reviews:review", args=[world.review.pk]), {"filter": "all"})
    assert response.status_code == 200
    return response.content.decode()


def _visible(html: str) -> str:
    """The text a sighted reader sees: no tags, no attributes, no closed ``<details>`` body."""
    html = re.sub(
        r"<details\b[^>]*>\s*<summary>(.*?)</summary>.*?</details>", r"\1", html, flags=re.S
    )
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _row(html: str, item) -> str:
    match = re.search(rf'<li class="item[^"]*" id="item-{item.pk}".*?</li>', html, re.S)
    assert match, "the item's row is not on the page"
    return match.group(0)


def test_the_item_row_names_the_item_by_its_text(keyed, as_user):
    world, item = keyed
    row = _row(_page(as_user(world.reviewer), world), item)
    assert TEXT in _visible(row)
    assert KEY not in _visible(row)  # not a visible label
    assert KEY in row  # but there on demand
    legend = re.search(r'<legend class="sr-only">(.*?)</legend>', row, re.S).group(1)
    note = re.search(r'<span class="sr-only">(Note for .*?)</span>', row, re.S).group(1)
    for label in (legend, note):
        assert KEY not in label
        assert unescape(label).split(" for ", 1)[1].rstrip("…") in TEXT


def test_the_gate_panel_names_blocking_items_by_their_text(keyed, as_user):
    world, item = keyed
    html = _page(as_user(world.reviewer), world)
    gate = html[html.index('id="gate-title"') :]
    gate = gate[: gate.index("</ul>")]
    link = re.search(rf'<a href="\?item={item.pk}#item-{item.pk}"[^>]*>(.*?)</a>', gate, re.S)
    assert link, "the blocking item is not linked"
    assert KEY not in _visible(link.group(0))
    assert unescape(link.group(1)).rstrip("…") in TEXT
    assert f'title="{TEXT}' in unescape(link.group(0)) or len(TEXT) <= 60


def test_findings_link_their_item_by_its_text(keyed, as_user):
    world, item = keyed
    services.finding_raise(
        actor=world.reviewer,
        review=world.review,
        severity="important",
        title="The errors are missing",
        item_id=item.pk,
    )
    html = _page(as_user(world.reviewer), world)
    findings = html[html.index('id="finding-') :]
    link = re.search(rf'<a href="\?item={item.pk}#item-{item.pk}"[^>]*>(.*?)</a>', findings, re.S)
    assert link
    assert KEY not in _visible(link.group(0))
    assert unescape(link.group(1)).rstrip("…") in TEXT


def test_stale_sign_off_reasons_name_the_item_by_its_text(keyed, as_user):
    world, item = keyed
    services.signoff_create(actor=world.reviewer, review=world.review)
    services.response_save(
        actor=world.reviewer2, review=world.review, item_id=item.pk, verdict=Verdict.PASS
    )
    html = _page(as_user(world.reviewer), world)
    assert KEY not in _visible(html)
    assert TEXT[:40] in _visible(html[html.index("stale") :])


def test_insights_name_failing_items_by_their_text(keyed, as_user):
    world, item = keyed
    services.response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=item.pk,
        verdict=Verdict.FAIL,
        note="no",
    )
    html = as_user(world.lead).get(reverse("reviews:insights")).content.decode()
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    assert TEXT[:40] in _visible(table)
    assert KEY not in _visible(table)
    assert KEY in table  # on demand


def test_the_saved_message_names_the_item_by_its_text(keyed, as_user):
    world, item = keyed
    client = as_user(world.reviewer)
    url = reverse("reviews:answer", args=[world.review.pk, item.pk])
    response = client.post(url, {"verdict": "pass", "note": ""}, follow=True)
    html = response.content.decode()
    messages = " ".join(re.findall(r'<li class="message[^"]*"[^>]*>(.*?)</li>', html, re.S))
    messages = messages or html
    assert KEY not in _visible(messages)
    assert "Saved “Every endpoint is listed" in unescape(html)
