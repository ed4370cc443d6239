"""An answer the system put back to re-check (a new spec revision, a move to a new checklist
version) is recorded as done by the system, naming the event — never credited to the reviewer
who last answered it: in the data, on the item row, in the API and in the timeline."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from reviews import services
from reviews.models import Response
from tests.reviews.factories import DEFAULT_ITEMS, make_version

pytestmark = pytest.mark.django_db


def fail_then_revise(world):
    item = world.items()["item-1"]
    services.response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="fail", note="No 409."
    )
    services.spec_post_revision(actor=world.author, spec=world.spec, label="r2")
    return item


def row_html(client, world, item) -> str:
    body = client.get(
        reverse("reviews:review", args=[world.review.pk]), {"item": item.pk}
    ).content.decode()
    match = re.search(rf'<li class="[^"]*" id="item-{item.pk}".*?</li>', body, re.S)
    assert match, "the item's row is on the page"
    return match.group(0)


def test_the_reset_answer_is_the_systems_naming_the_revision(world):
    item = fail_then_revise(world)
    response = Response.objects.get(review=world.review, item=item)
    assert (response.verdict, response.needs_recheck) == ("unanswered", True)
    assert response.answered_by is None
    assert response.reset_reason == "revision r2"
    assert response.answered_at is not None


def test_the_item_row_says_back_to_re_check_with_the_revision(world, client):
    item = fail_then_revise(world)
    client.force_login(world.lead)
    row = row_html(client, world, item)
    assert re.search(r"Back to re-check · revision r2 · \d{4}-\d\d-\d\d \d\d:\d\d", row), row
    assert world.reviewer.label not in row
    assert "Unanswered ·" not in row


def test_answering_again_credits_the_reviewer(world, client):
    item = fail_then_revise(world)
    services.response_save(
        actor=world.reviewer2, review=world.review, item_id=item.pk, verdict="pass"
    )
    response = Response.objects.get(review=world.review, item=item)
    assert (response.answered_by, response.reset_reason) == (world.reviewer2, "")
    client.force_login(world.lead)
    row = row_html(client, world, item)
    assert "Back to re-check" not in row and world.reviewer2.label in row


def test_the_api_shows_no_answerer_and_the_reason(world):
    item = fail_then_revise(world)
    client = APIClient()
    client.force_login(world.lead)
    data = client.get(f"/api/v1/reviews/{world.review.pk}/responses/{item.pk}/").json()
    assert data["answered_by"] is None
    assert data["needs_recheck"] is True
    assert data["reset_reason"] == "revision r2"


def test_the_timeline_names_the_revision_for_the_systems_changes(world, client):
    fail_then_revise(world)
    client.force_login(world.lead)
    body = client.get(reverse("reviews:review", args=[world.review.pk])).content.decode()
    timeline = body[body.index('id="timeline"') :]
    lines = re.findall(r"<li[ >].*?</li>", timeline, re.S)
    system = [line for line in lines if 'class="system"' in line]
    assert system and all("revision r2" in line for line in system), system


def test_moving_to_a_new_checklist_version_is_the_systems_too(world):
    item = world.items()["item-1"]
    services.response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass"
    )
    changed = [(text + " (reworded)", *rest) if i == 1 else (text, *rest)
               for i, (text, *rest) in enumerate(DEFAULT_ITEMS)]  # fmt: skip
    v2 = make_version(
        slug=world.version.template.slug, number=2, items=changed, template=world.version.template
    )
    services.review_migrate(actor=world.lead, review=world.review, to_version=v2)
    response = Response.objects.get(review=world.review, item__key="item-1")
    assert response.answered_by is None
    assert response.needs_recheck
    assert response.reset_reason == f"checklist {world.version.template.slug} v2"


def test_answers_reset_before_the_field_existed_are_credited_to_the_system(world):
    """The data migration: the audit log names the revision of earlier resets."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("reviews.migrations.0005_response_reset_reason")
    item = fail_then_revise(world)
    other = world.items()["item-3"]
    # As the rows were before: credited to the reviewer, no reason.
    Response.objects.filter(review=world.review, item=item).update(
        answered_by=world.reviewer, reset_reason=""
    )
    Response.objects.filter(review=world.review, item=other).update(
        answered_by=world.reviewer, needs_recheck=True, reset_reason=""
    )
    migration.credit_resets_to_the_system(apps, None)
    reset = Response.objects.get(review=world.review, item=item)
    assert (reset.answered_by, reset.reset_reason) == (None, "revision r2")
    unknown = Response.objects.get(review=world.review, item=other)
    assert (unknown.answered_by, unknown.reset_reason) == (None, migration.SYSTEM_RESET_EARLIER)
