"""A note saves on an item not answered yet, with and without the page script."""

import pytest
from django.urls import reverse

from reviews.models import Response
from reviews.services import response_save

pytestmark = pytest.mark.django_db

AJAX = {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}


def _post(client, world, item, data, **kwargs):
    return client.post(reverse("reviews:answer", args=[world.review.pk, item.pk]), data, **kwargs)


def _saved(world, item):
    response = Response.objects.get(review=world.review, item=item)
    return response.verdict, response.note, response.version


def test_a_note_without_a_verdict_saves_on_the_unanswered_item(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-1"]
    resp = _post(client, world, item, {"note": " Asked about 409s. ", "version": 1})
    assert resp.status_code == 302
    assert _saved(world, item) == ("unanswered", "Asked about 409s.", 2)
    page = client.get(resp["Location"].split("#")[0]).content.decode()
    assert f"Saved the note on “{item.text}”" in page and ">Asked about 409s.</textarea>" in page


def test_nothing_to_save_is_an_error_and_writes_nothing(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-1"]
    resp = _post(client, world, item, {"note": "  ", "version": 1})
    assert resp.status_code == 400
    assert f'id="err-{item.pk}">Choose pass, fail or N/A.' in resp.content.decode()
    assert _saved(world, item) == ("unanswered", "", 1)
    resp = _post(client, world, item, {"verdict": "maybe", "version": 1}, headers=AJAX)
    assert resp.status_code == 400
    assert "maybe" in resp.json()["error"]["details"]["verdict"][0]


def test_the_script_clears_a_note_of_an_unanswered_item(world, as_user):
    item = world.items()["item-1"]
    response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="unanswered", note="x"
    )
    client = as_user(world.reviewer)
    data = {"verdict": "unanswered", "note": "", "version": 2}
    resp = _post(client, world, item, data, headers=AJAX)
    assert resp.status_code == 200
    assert resp.json()["response"] == {**resp.json()["response"], "note": "", "version": 3}
    assert _saved(world, item) == ("unanswered", "", 3)
    # A stale version is a conflict, as for verdicts.
    resp = _post(client, world, item, {**data, "note": "late"}, headers=AJAX)
    assert resp.status_code == 409
    assert _saved(world, item) == ("unanswered", "", 3)
