"""A reviewer's sign-off decides: approve, or request changes. A request for changes never
counts toward the quorum and, while it covers the current content, blocks approval (rule 4 says
so). Signing off with most items still open warns, in the browser and the API, but is allowed."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import Event
from config.errors import Conflict, InvalidInput
from reviews import services
from reviews.gate import evaluate_gate
from reviews.models import Review, SignOff
from tests.accounts.factories import record_reauthentication
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = make_world(required_signoffs=1)
    services.review_submit(actor=w.author, review=w.review)
    return w


def answer_all(world):
    for item in world.version.items.all():
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass"
        )


def signoffs_rule(world, user=None):
    gate = evaluate_gate(Review.objects.get(pk=world.review.pk), user or world.lead)
    return gate, next(r for r in gate.rules if r.rule == "signoffs")


def test_the_service_records_a_request_for_changes_with_its_event(world):
    answer_all(world)
    signoff = services.signoff_create(
        actor=world.reviewer,
        review=world.review,
        decision="request_changes",
        comment="Retries are unbounded.",
    )
    assert signoff.decision == "request_changes"
    event = Event.objects.get(verb="signoff.created", object_id=signoff.pk)
    assert event.actor_id == world.reviewer.pk
    assert event.after["decision"] == "request_changes"


def test_an_unknown_decision_is_refused_and_nothing_is_written(world):
    with pytest.raises(InvalidInput) as caught:
        services.signoff_create(actor=world.reviewer, review=world.review, decision="maybe")
    assert "decision" in caught.value.details
    assert not SignOff.objects.exists()


def test_a_request_for_changes_does_not_count_and_blocks_the_gate(world):
    answer_all(world)
    services.signoff_create(actor=world.reviewer2, review=world.review)
    gate, rule = signoffs_rule(world)
    assert gate.ready
    services.signoff_create(
        actor=world.reviewer, review=world.review, decision="request_changes", comment="No."
    )
    gate, rule = signoffs_rule(world)
    assert not gate.ready
    assert rule.status == "unsatisfied"
    assert world.reviewer.email in rule.message and "changes" in rule.message.lower()
    assert rule.blocking[0]["requested_changes"] == [world.reviewer.email]
    with pytest.raises(Conflict) as refused:
        services.review_approve(actor=world.lead, review=world.review)
    assert any(world.reviewer.email in reason for reason in refused.value.details["reasons"])


def test_a_request_for_changes_alone_is_not_a_sign_off_toward_the_quorum(world):
    answer_all(world)
    services.signoff_create(actor=world.reviewer, review=world.review, decision="request_changes")
    _, rule = signoffs_rule(world)
    assert rule.blocking[0]["have"] == 0


def test_a_content_change_makes_the_request_stale_and_lifts_the_block(world):
    answer_all(world)
    services.signoff_create(actor=world.reviewer2, review=world.review)
    services.signoff_create(actor=world.reviewer, review=world.review, decision="request_changes")
    item = world.version.items.first()
    services.response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="na", note="gone"
    )
    services.signoff_create(actor=world.reviewer2, review=world.review)
    gate, rule = signoffs_rule(world)
    assert rule.status == "satisfied", rule.message


def test_signing_off_with_most_items_open_warns(world):
    signoff = services.signoff_create(actor=world.reviewer, review=world.review)
    assert signoff.warnings and "unanswered" in signoff.warnings[0]
    assert services.signoff_warnings({"total": 4, "unanswered": 1}) == [], (
        "a few open items are no reason to warn"
    )


# --- the API ---------------------------------------------------------------------------------


def api(user):
    client = APIClient()
    client.force_login(user)
    record_reauthentication(client, user)
    return client


def test_the_api_takes_a_decision(world):
    answer_all(world)
    url = f"/api/v1/reviews/{world.review.pk}/signoffs/"
    response = api(world.reviewer).post(
        url, {"decision": "request_changes", "comment": "Fix retries."}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["decision"] == "request_changes"
    assert response.json()["warnings"] == []


def test_the_api_defaults_to_approve_and_warns_with_most_items_open(world):
    url = f"/api/v1/reviews/{world.review.pk}/signoffs/"
    response = api(world.reviewer).post(url, {}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["decision"] == "approve"
    assert response.json()["warnings"] and "unanswered" in response.json()["warnings"][0]


def test_the_api_names_a_bad_decision(world):
    url = f"/api/v1/reviews/{world.review.pk}/signoffs/"
    response = api(world.reviewer).post(url, {"decision": "veto"}, format="json")
    assert response.status_code == 400
    assert "decision" in response.json()["error"]["details"]
    assert not SignOff.objects.exists()


def test_the_schema_lists_the_decisions(client):
    components = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    decision = components["SignOffCreateRequest"]["properties"]["decision"]
    assert decision["default"] == "approve"
    enum_name = decision["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert set(components[enum_name]["enum"]) == {"approve", "request_changes"}
    assert "warnings" in components["SignOffCreated"]["properties"]


# --- the browser (without JavaScript) ---------------------------------------------------------


def test_the_page_offers_both_decisions_and_warns_when_most_items_are_open(world, client):
    client.force_login(world.reviewer)
    body = client.get(reverse("reviews:review", args=[world.review.pk])).content.decode()
    assert 'name="decision" value="approve"' in body
    assert 'name="decision" value="request_changes"' in body
    assert "items are still unanswered" in body


def test_the_page_records_a_request_for_changes(world, client):
    answer_all(world)
    client.force_login(world.reviewer)
    url = reverse("reviews:action", args=[world.review.pk, "signoff"])
    response = client.post(url, {"decision": "request_changes", "comment": "Retries."})
    assert response.status_code == 302
    signoff = SignOff.objects.get(user=world.reviewer)
    assert (signoff.decision, signoff.comment) == ("request_changes", "Retries.")
    body = client.get(response["Location"]).content.decode()
    assert "items are still unanswered" not in body
    assert "requested changes" in body.lower()
