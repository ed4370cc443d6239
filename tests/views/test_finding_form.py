"""Raising a finding from an item's own row: the form with the item chosen (by id, shown by its
text), every error at its field with what was typed kept, and the page landing at the form."""

import re

import pytest
from django.urls import reverse

from reviews.models import Finding
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


def _new_url(world, item=None):
    url = reverse("reviews:finding_new", args=[world.review.pk])
    return f"{url}?item={item.pk}" if item else url


def _raise_url(world):
    return reverse("reviews:finding_raise", args=[world.review.pk])


def _selected_item(body) -> str | None:
    select = re.search(r'<select name="item".*?</select>', body, re.S)
    assert select, "no item choice on the form"
    chosen = re.search(r'<option value="(\d+)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else None


def test_every_row_links_to_the_finding_form_with_its_item(world, as_user):
    body = as_user(world.reviewer).get(reverse("reviews:review", args=[world.review.pk]))
    body = body.content.decode()
    for item in world.items().values():
        assert f'href="{_new_url(world, item)}#raise-finding"' in body.replace("&amp;", "&")
    # Who may not raise findings gets no link.
    body = as_user(world.viewer).get(reverse("reviews:review", args=[world.review.pk]))
    assert "findings/new/" not in body.content.decode()


def test_the_form_from_a_row_has_the_item_chosen_and_shown_by_its_text(world, as_user):
    item = world.items()["item-1"]
    resp = as_user(world.reviewer).get(_new_url(world, item))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert _selected_item(body) == str(item.pk)
    assert item.text in body
    # Items are offered by their text, not by machine keys.
    assert ">item-1<" not in body and "Checklist item key" not in body
    for other in world.items().values():
        assert f'<option value="{other.pk}"' in body and other.text in body


def test_the_form_without_an_item_chooses_none(world, as_user):
    resp = as_user(world.reviewer).get(_new_url(world))
    assert resp.status_code == 200
    assert _selected_item(resp.content.decode()) is None


@pytest.mark.parametrize("role", ["viewer", "author"])
def test_who_may_not_raise_findings_gets_no_form(world, as_user, role):
    assert as_user(getattr(world, role)).get(_new_url(world)).status_code == 403
    assert as_user(world.outsider).get(_new_url(world)).status_code == 404


def test_an_error_keeps_what_was_typed_and_shows_at_its_field(world, as_user):
    item = world.items()["item-2"]
    client = as_user(world.reviewer)
    resp = client.post(
        _raise_url(world),
        {"severity": "important", "title": "", "impact": "Retries storm the upstream.",
         "item": item.pk},
    )  # fmt: skip
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "Retries storm the upstream." in body
    assert _selected_item(body) == str(item.pk)
    assert '<option value="important" selected' in body
    # The error sits at the title field, and the form is where the page lands.
    title_error = body.index('id="id_title_error"')
    assert body.index('for="id_title"') < title_error < body.index('id="id_impact"')
    assert 'id="raise-finding"' in body
    assert not Finding.objects.exists()


def test_an_item_of_another_review_is_an_error_at_the_item_field(world, as_user):
    stranger = make_world().version.items.first()
    resp = as_user(world.reviewer).post(
        _raise_url(world),
        {"severity": "critical", "title": "Rollback is missing", "item": stranger.pk},
    )
    assert resp.status_code == 400
    body = resp.content.decode()
    assert 'value="Rollback is missing"' in body
    item_error = body.index('id="id_item_error"')
    assert body.index('for="id_item"') < item_error
    assert not Finding.objects.exists()


def test_a_finding_raised_from_the_form_is_about_its_item(world, as_user):
    item = world.items()["item-3"]
    resp = as_user(world.reviewer).post(
        _raise_url(world),
        {"severity": "critical", "title": "No rollback plan", "item": item.pk},
    )
    finding = Finding.objects.get()
    assert finding.item_id == item.pk
    assert resp.status_code == 302
    assert resp["Location"].endswith(f"#finding-{finding.pk}")


def test_no_severity_is_chosen_for_the_reviewer(client):
    """A new user found 'Critical' preselected: a hurried finding then blocked the gate."""
    from reviews.forms import FindingForm

    form = FindingForm()
    html = str(form["severity"])
    assert 'value="" selected' in html
    refused = FindingForm(data={"title": "x"})
    assert not refused.is_valid() and "severity" in refused.errors
