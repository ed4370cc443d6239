"""Issue 16 defect 13: "ready" hid problems. The gate also returns non-blocking warnings (fails
on non-gate items, unanswered should / could items, open important findings where they do not
block), the gate panel shows them below the rules, the API's gate answer lists them, and
approving with warnings asks the lead to confirm in the browser (the API still approves and
returns them)."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import token_create
from audit.models import Event
from config.errors import Conflict
from reviews import services
from reviews.gate import evaluate_gate
from reviews.models import ReviewState
from tests.accounts.factories import record_reauthentication
from tests.reviews.factories import make_big_version, make_world

pytestmark = pytest.mark.django_db


def _answer(world, key, verdict, note=""):
    services.response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=world.items()[key].pk,
        verdict=verdict,
        note=note,
    )


@pytest.fixture
def ready_with_warnings():
    """A review the gate lets through: the gate item passes, the must item (not a gate item)
    FAILS, the should and the could items are unanswered, an important finding is open (this
    project does not make them block), a suggestion is open, and a reviewer signed off."""
    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    _answer(world, "item-0", "pass")
    _answer(world, "item-1", "fail", "Two endpoints have no error table.")
    important = services.finding_raise(
        actor=world.reviewer,
        review=world.review,
        severity="important",
        title="Retries are unbounded",
    )
    services.finding_raise(
        actor=world.reviewer, review=world.review, severity="suggestion", title="Name the metric"
    )
    services.signoff_create(actor=world.reviewer, review=world.review)
    world.important = important
    return world


def _by_code(warnings):
    return {w["code"] if isinstance(w, dict) else w.code: w for w in warnings}


def test_a_ready_gate_lists_what_does_not_block(ready_with_warnings):
    world = ready_with_warnings
    result = evaluate_gate(world.review, world.lead)
    assert result.ready
    assert [r.status for r in result.rules] == ["satisfied"] * 5
    warnings = _by_code(result.warnings)
    assert list(warnings) == [
        "failed_items",
        "unanswered_should",
        "unanswered_could",
        "open_important_findings",
    ]
    items = world.items()
    failed = warnings["failed_items"]
    assert failed.count == 1
    assert failed.entries == [
        {
            "type": "item",
            "item": items["item-1"].pk,
            "key": "item-1",
            "text": "Errors are specified for every endpoint",
            "verdict": "fail",
            "severity": "must",
        }
    ]
    assert "1 must" in failed.message
    assert [e["item"] for e in warnings["unanswered_should"].entries] == [items["item-2"].pk]
    assert [e["item"] for e in warnings["unanswered_could"].entries] == [items["item-3"].pk]
    important = warnings["open_important_findings"]
    assert (important.count, important.entries[0]["finding"]) == (1, world.important.pk)
    # Suggestions are not warned about; the digest is stable for the same inputs.
    assert result.warnings_digest() == evaluate_gate(world.review, world.lead).warnings_digest()


def test_what_blocks_is_a_rule_not_a_warning(ready_with_warnings):
    world = ready_with_warnings
    project = world.project
    project.important_findings_block = True
    project.save()
    _answer(world, "item-0", "fail", "No contract yet.")  # a gate item: rule 1, not a warning
    result = evaluate_gate(world.review, world.lead)
    assert not result.ready
    codes = [w.code for w in result.warnings]
    assert "open_important_findings" not in codes
    assert [e["key"] for e in _by_code(result.warnings)["failed_items"].entries] == ["item-1"]


def test_no_warnings_when_everything_is_answered_and_closed(ready_with_warnings):
    world = ready_with_warnings
    for key in ("item-1", "item-2", "item-3"):
        _answer(world, key, "pass")
    services.finding_resolve(
        actor=world.author, finding=world.important, note="Bounded to 3.", status="resolved"
    )
    result = evaluate_gate(world.review, world.lead)
    assert result.warnings == [] and result.warnings_digest() == ""


def test_the_service_refuses_an_approval_whose_confirmation_does_not_match(ready_with_warnings):
    world = ready_with_warnings
    with pytest.raises(Conflict) as refused:
        services.review_approve(actor=world.lead, review=world.review, warnings_seen="")
    assert refused.value.code == "warnings_unconfirmed"
    assert refused.value.details["warnings_digest"]
    with pytest.raises(Conflict):
        services.review_approve(actor=world.lead, review=world.review, warnings_seen="0" * 16)
    world.review.refresh_from_db()
    assert world.review.state == ReviewState.IN_REVIEW
    digest = evaluate_gate(world.review, world.lead).warnings_digest()
    review = services.review_approve(actor=world.lead, review=world.review, warnings_seen=digest)
    assert review.state == ReviewState.APPROVED
    # The approval record (the event) keeps the warnings the lead approved with.
    event = Event.objects.filter(review_id=review.pk, verb="review.approve").get()
    assert [w["code"] for w in event.after["gate"]["warnings"]][0] == "failed_items"


# --- the API ---------------------------------------------------------------------------------


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=user, name='t').raw}")
    return client


def test_the_api_gate_lists_warnings_and_approval_returns_them(ready_with_warnings):
    world = ready_with_warnings
    client = _api(world.lead)
    rid = world.review.pk
    gate = client.get(f"/api/v1/reviews/{rid}/gate/").json()
    assert gate["ready"] is True
    assert [r["status"] for r in gate["rules"]] == ["satisfied"] * 5
    warnings = _by_code(gate["warnings"])
    assert warnings["failed_items"]["count"] == 1
    assert warnings["failed_items"]["entries"][0]["item"] == world.items()["item-1"].pk
    assert warnings["unanswered_should"]["count"] == 1
    assert warnings["open_important_findings"]["entries"][0]["finding"] == world.important.pk
    # Over the API an approval with warnings goes through, and its answer carries them.
    response = client.post(f"/api/v1/reviews/{rid}/approve/", {"comment": "ok"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "approved"
    assert [w["code"] for w in body["warnings"]] == list(warnings)


# --- the page ----------------------------------------------------------------------------------


@pytest.fixture
def lead_client(client, ready_with_warnings):
    client.force_login(ready_with_warnings.lead)
    record_reauthentication(client, ready_with_warnings.lead)
    return client


def test_the_gate_panel_shows_warnings_below_the_rules(ready_with_warnings, lead_client):
    world = ready_with_warnings
    body = lead_client.get(reverse("reviews:review", args=[world.review.pk])).content.decode()
    gate = body[body.index('id="gate"') :]
    rules, warnings = gate.index('class="rules"'), gate.index('id="gate-warnings"')
    assert rules < warnings
    panel = gate[warnings : gate.index("</section>")]
    assert "4 warnings" in panel and "not blocking" in panel
    item = world.items()["item-1"].pk
    assert f'href="?item={item}#item-{item}"' in panel
    assert "Errors are specified for every endpoint" in panel
    assert f'href="#finding-{world.important.pk}"' in panel
    # The approve form asks to confirm them.
    assert "I have seen 4 warnings" in body


def test_approving_with_warnings_asks_to_confirm(ready_with_warnings, lead_client):
    world = ready_with_warnings
    url = reverse("reviews:action", args=[world.review.pk, "approve"])
    response = lead_client.post(url, {"comment": "go"}, follow=True)
    assert "confirm that you have seen them" in response.content.decode()
    world.review.refresh_from_db()
    assert world.review.state == ReviewState.IN_REVIEW
    digest = evaluate_gate(world.review, world.lead).warnings_digest()
    response = lead_client.post(url, {"comment": "go", "warnings_seen": digest})
    assert response.status_code == 302
    world.review.refresh_from_db()
    assert world.review.state == ReviewState.APPROVED


def test_without_warnings_approving_needs_no_confirmation(ready_with_warnings, lead_client):
    world = ready_with_warnings
    for key in ("item-1", "item-2", "item-3"):
        _answer(world, key, "pass")
    services.finding_resolve(
        actor=world.author, finding=world.important, note="Bounded.", status="resolved"
    )
    services.signoff_create(actor=world.reviewer, review=world.review)
    body = lead_client.get(reverse("reviews:review", args=[world.review.pk])).content.decode()
    assert 'id="gate-warnings"' not in body and "I have seen" not in body
    lead_client.post(reverse("reviews:action", args=[world.review.pk, "approve"]), {})
    world.review.refresh_from_db()
    assert world.review.state == ReviewState.APPROVED


def test_the_page_confirmation_holds_for_more_warnings_than_it_lists(client):
    """The page lists the first few items of a warning, the service reads them all: the
    confirmation the page carries is the one the service checks."""
    world = make_world(version=make_big_version("warn-many", 30))
    services.review_submit(actor=world.author, review=world.review)
    failed = 0
    for item in world.version.items.order_by("position"):
        if item.is_gate or item.severity == "must":
            verdict, note = "pass", ""
        elif failed < 8:
            verdict, note, failed = "fail", "broken", failed + 1
        else:
            continue  # unanswered should items
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict=verdict, note=note
        )
    services.signoff_create(actor=world.reviewer, review=world.review)
    client.force_login(world.lead)
    record_reauthentication(client, world.lead)
    body = client.get(reverse("reviews:review", args=[world.review.pk])).content.decode()
    assert "… and 3 more" in body  # 8 failed, 5 listed
    seen = re.search(r'name="warnings_seen" value="(\w+)"', body).group(1)
    response = client.post(
        reverse("reviews:action", args=[world.review.pk, "approve"]), {"warnings_seen": seen}
    )
    assert response.status_code == 302
    world.review.refresh_from_db()
    assert world.review.state == ReviewState.APPROVED
