"""The gate's five rules, one by one, and overrides."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import Conflict, Forbidden, InvalidInput
from reviews import services
from reviews.gate import evaluate_gate
from reviews.models import Override, ReviewState
from tests.reviews.factories import make_big_version, make_version, make_world

pytestmark = pytest.mark.django_db


def rule(result, name):
    return next(r for r in result.rules if r.rule == name)


def answer_all(world, verdict="pass", note=""):
    for item in world.version.items.all():
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict=verdict, note=note
        )


@pytest.fixture
def world():
    w = make_world()
    services.review_submit(actor=w.author, review=w.review)
    return w


def test_fresh_review_is_blocked_by_items_and_signoffs(world):
    result = evaluate_gate(world.review, world.lead)
    assert not result.ready
    assert rule(result, "gate_items").status == "unsatisfied"
    assert rule(result, "gate_items").blocking[0]["key"] == "item-0"
    assert rule(result, "must_items").status == "unsatisfied"
    assert {b["key"] for b in rule(result, "must_items").blocking} == {"item-0", "item-1"}
    assert rule(result, "blocking_findings").status == "satisfied"
    assert rule(result, "signoffs").status == "unsatisfied"
    assert rule(result, "not_author").status == "satisfied"


def test_all_pass_and_signoff_opens_the_gate(world):
    answer_all(world)
    services.signoff_create(actor=world.reviewer, review=world.review)
    result = evaluate_gate(world.review, world.lead)
    assert result.ready
    assert [r.status for r in result.rules] == ["satisfied"] * 5


def test_gate_item_na_needs_a_note(world):
    items = world.items()
    services.response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=items["item-0"].pk,
        verdict="na",
        note="no public API in this spec",
    )
    assert rule(evaluate_gate(world.review), "gate_items").status == "satisfied"
    with pytest.raises(InvalidInput, match="needs a note"):
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=items["item-1"].pk, verdict="na"
        )


def test_optional_item_na_needs_no_note(world):
    items = world.items()
    response, changed = services.response_save(
        actor=world.reviewer, review=world.review, item_id=items["item-2"].pk, verdict="na"
    )
    assert changed and response.verdict == "na"


def test_failed_gate_item_blocks(world):
    answer_all(world)
    items = world.items()
    services.response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=items["item-0"].pk,
        verdict="fail",
        note="missing",
    )
    gate_rule = rule(evaluate_gate(world.review), "gate_items")
    assert gate_rule.status == "unsatisfied" and gate_rule.blocking[0]["verdict"] == "fail"


def test_critical_finding_blocks_until_resolved(world):
    answer_all(world)
    services.signoff_create(actor=world.reviewer, review=world.review)
    finding = services.finding_raise(
        actor=world.reviewer, review=world.review, severity="critical", title="No auth"
    )
    result = evaluate_gate(world.review, world.lead)
    assert rule(result, "blocking_findings").blocking[0]["finding"] == finding.pk
    services.finding_resolve(actor=world.author, finding=finding, note="added OAuth")
    assert rule(evaluate_gate(world.review), "blocking_findings").status == "satisfied"


def test_important_findings_block_only_when_the_project_says_so(world):
    services.finding_raise(
        actor=world.reviewer, review=world.review, severity="important", title="Slow query"
    )
    assert rule(evaluate_gate(world.review), "blocking_findings").status == "satisfied"
    services.project_settings_update(
        actor=world.lead, project=world.project, important_findings_block=True
    )
    world.review.refresh_from_db()
    assert rule(evaluate_gate(world.review), "blocking_findings").status == "unsatisfied"


def test_required_signoffs_setting(world):
    answer_all(world)
    services.project_settings_update(actor=world.lead, project=world.project, required_signoffs=2)
    services.signoff_create(actor=world.reviewer, review=world.review)
    world.review.refresh_from_db()
    signoffs = rule(evaluate_gate(world.review), "signoffs")
    assert signoffs.status == "unsatisfied" and "1 of 2" in signoffs.message
    services.signoff_create(actor=world.reviewer2, review=world.review)
    assert rule(evaluate_gate(world.review), "signoffs").status == "satisfied"


def test_project_settings_only_by_leads_and_versioned(world):
    with pytest.raises(Forbidden):
        services.project_settings_update(
            actor=world.reviewer, project=world.project, required_signoffs=0 + 1
        )
    with pytest.raises(InvalidInput):
        services.project_settings_update(
            actor=world.lead, project=world.project, required_signoffs=0
        )
    from audit.models import Event

    services.project_settings_update(actor=world.lead, project=world.project, required_signoffs=3)
    event = Event.objects.filter(verb="project.settings_changed").get()
    assert event.before["required_signoffs"] == 1 and event.after["required_signoffs"] == 3


def test_author_cannot_approve_own_spec_even_as_lead(world):
    answer_all(world)
    services.signoff_create(actor=world.reviewer, review=world.review)
    # lead2 posts a revision: from then on lead2 may not approve
    services.spec_post_revision(actor=world.lead2, spec=world.spec, label="r2")
    world.review.refresh_from_db()
    services.signoff_create(actor=world.reviewer, review=world.review)
    result = evaluate_gate(world.review, world.lead2)
    assert rule(result, "not_author").status == "unsatisfied"
    with pytest.raises(Conflict) as caught:
        services.review_approve(actor=world.lead2, review=world.review)
    assert caught.value.details["ready"] is False
    assert any(
        r["rule"] == "not_author" and r["status"] == "unsatisfied"
        for r in caught.value.details["rules"]
    )
    services.review_approve(actor=world.lead, review=world.review)


def test_spec_author_cannot_sign_off(world):
    from reviews.models import Membership
    from reviews.permissions import forget_roles

    Membership.objects.filter(user=world.author).update(role="reviewer")
    forget_roles(world.author)
    with pytest.raises(Conflict, match="cannot sign it off"):
        services.signoff_create(actor=world.author, review=world.review)


def test_no_duplicate_signoffs(world):
    services.signoff_create(actor=world.reviewer, review=world.review)
    with pytest.raises(Conflict, match="already signed off"):
        services.signoff_create(actor=world.reviewer, review=world.review)


def test_approval_refused_returns_the_same_rules_as_the_gate(world):
    with pytest.raises(Conflict) as caught:
        services.review_approve(actor=world.lead, review=world.review)
    assert (
        caught.value.details["rules"] == evaluate_gate(world.review, world.lead).as_dict()["rules"]
    )


def test_gate_is_deterministic(world):
    first = evaluate_gate(world.review, world.lead).as_dict()
    assert evaluate_gate(world.review, world.lead).as_dict() == first


# --- overrides -----------------------------------------------------------------------------


def test_override_shows_overridden_and_lets_approval_through(world):
    answer_all(world)
    services.override_grant(
        actor=world.lead,
        review=world.review,
        rule="signoffs",
        justification="Reviewer on leave; reviewed in meeting",
    )
    result = evaluate_gate(world.review, world.lead)
    signoffs = rule(result, "signoffs")
    assert signoffs.status == "overridden" and signoffs.override["granted_by"] == world.lead.email
    assert result.ready
    services.review_approve(actor=world.lead, review=world.review)


def test_an_override_shows_even_after_its_rule_has_come_to_hold(world):
    """DESIGN.md: an override shows as overridden, never as satisfied. A sign-off changes no
    content, so the override granted for missing sign-offs stays active after one arrives."""
    answer_all(world)
    services.override_grant(
        actor=world.lead, review=world.review, rule="signoffs", justification="In the meeting"
    )
    services.signoff_create(actor=world.reviewer, review=world.review)
    world.review.refresh_from_db()
    result = evaluate_gate(world.review, world.lead)
    signoffs = rule(result, "signoffs")
    assert signoffs.status == "overridden"
    assert signoffs.override["justification"] == "In the meeting"
    assert result.ready


def test_override_lapses_on_content_change(world):
    services.override_grant(
        actor=world.lead, review=world.review, rule="gate_items", justification="Covered elsewhere"
    )
    assert rule(evaluate_gate(world.review), "gate_items").status == "overridden"
    item = world.items()["item-3"]
    services.response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass"
    )
    world.review.refresh_from_db()
    assert rule(evaluate_gate(world.review), "gate_items").status == "unsatisfied"
    assert Override.objects.filter(review=world.review).count() == 1  # never deleted


def test_override_lapses_on_expiry(world):
    override = services.override_grant(
        actor=world.lead,
        review=world.review,
        rule="gate_items",
        justification="Temporary",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    Override.objects.filter(pk=override.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert rule(evaluate_gate(world.review), "gate_items").status == "unsatisfied"


@pytest.mark.parametrize("who", ["lead2", "reviewer", "author"])
def test_override_needs_the_permission(world, who):
    with pytest.raises(Forbidden):
        services.override_grant(
            actor=getattr(world, who), review=world.review, rule="signoffs", justification="x"
        )


def test_override_needs_justification_and_a_real_rule(world):
    with pytest.raises(InvalidInput):
        services.override_grant(
            actor=world.lead, review=world.review, rule="signoffs", justification="  "
        )
    with pytest.raises(InvalidInput):
        services.override_grant(
            actor=world.lead,
            review=world.review,
            rule="not_author",
            justification="I wrote it but trust me",
        )


def test_override_only_while_in_review(world):
    services.review_request_changes(actor=world.lead, review=world.review)
    with pytest.raises(Conflict):
        services.override_grant(
            actor=world.lead, review=world.review, rule="signoffs", justification="x"
        )
    world.review.refresh_from_db()
    assert world.review.state == ReviewState.CHANGES_REQUESTED


@pytest.mark.parametrize("size", [10, 600])
def test_gate_query_count_does_not_grow(size, django_assert_max_num_queries):
    world = make_world(version=make_big_version(f"big-{size}", size))
    services.review_submit(actor=world.author, review=world.review)
    world.review.refresh_from_db()
    with django_assert_max_num_queries(12):
        evaluate_gate(world.review, world.lead)


def test_two_templates_in_one_review():
    world = make_world()
    other = make_version(slug="security", items=[("Threat model exists", "must", True, False)])
    review = services.review_create(
        actor=world.author, spec=world.spec, template_version_ids=[world.version.pk, other.pk]
    )
    assert review.responses.count() == 5
    gate_rule = rule(evaluate_gate(review), "gate_items")
    assert gate_rule.blocking_count == 2


# --- four eyes -----------------------------------------------------------------------------


def _signoffs_rule(result):
    return rule(result, "signoffs")


def test_a_leads_own_signoff_never_lets_the_same_lead_approve_alone(world):
    """Issue 13: a lead signed off as reviewer, then approved alone (one sign-off required)."""
    answer_all(world)
    services.signoff_create(actor=world.lead, review=world.review)
    result = evaluate_gate(world.review, world.lead)
    signoffs = _signoffs_rule(result)
    assert not result.ready and signoffs.status == "unsatisfied"
    assert signoffs.blocking[0]["not_counted"] == [
        {"user": world.lead.email, "reason": "approving lead"}
    ]
    assert world.lead.email in signoffs.message and "approv" in signoffs.message
    with pytest.raises(Conflict) as caught:
        services.review_approve(actor=world.lead, review=world.review)
    assert caught.value.details["rules"] == result.as_dict()["rules"]
    assert any(world.lead.email in reason for reason in caught.value.details["reasons"])
    # The same sign-off counts for another lead, who may approve.
    assert _signoffs_rule(evaluate_gate(world.review, world.lead2)).status == "satisfied"
    services.review_approve(actor=world.lead2, review=world.review)


def test_signoffs_of_the_specs_authors_never_count(world):
    """A lead who signed off and then posted a revision is one of the spec's authors: a fresh
    sign-off is refused, and the gate says whose sign-offs do not count and why."""
    from reviews.gate import GateData

    answer_all(world)
    services.signoff_create(actor=world.reviewer, review=world.review)
    services.signoff_create(actor=world.lead2, review=world.review)
    services.spec_post_revision(actor=world.lead2, spec=world.spec, label="r2")
    world.review.refresh_from_db()
    with pytest.raises(Conflict, match="cannot sign it off"):
        services.signoff_create(actor=world.lead2, review=world.review)
    # The two sign-offs as the gate would read them were they current: the author's does not
    # count, and the gate says so.
    rows = list(world.review.signoffs.select_related("user").order_by("id"))
    for signoff in rows:
        signoff.stale = False
    result = evaluate_gate(world.review, world.lead, data=GateData(world.review, signoffs=rows))
    signoffs = _signoffs_rule(result)
    assert signoffs.status == "satisfied"
    assert f"{world.lead2.email} (spec author)" in signoffs.message
    world.project.required_signoffs = 2
    world.project.save(update_fields=["required_signoffs"])
    world.review.spec.project.required_signoffs = 2
    result = evaluate_gate(world.review, world.lead, data=GateData(world.review, signoffs=rows))
    assert _signoffs_rule(result).blocking[0]["not_counted"] == [
        {"user": world.lead2.email, "reason": "spec author"}
    ]


def test_the_gate_for_a_lead_is_that_lead_approving_and_repeats_itself(world, client):
    """GET …/gate/ for a lead evaluates that lead approving: two leads get their own answers,
    each the same every time (the read cache keeps them apart)."""
    from rest_framework.test import APIClient

    from accounts.services import token_create

    answer_all(world)
    services.signoff_create(actor=world.lead, review=world.review)
    answers = {}
    for lead in (world.lead, world.lead2, world.lead, world.lead2):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(actor=lead, name='g').raw}")
        body = api.get(f"/api/v1/reviews/{world.review.pk}/gate/").json()
        answers.setdefault(lead.email, []).append(body)
        assert body == evaluate_gate(world.review, lead).as_dict()
    assert [a["ready"] for a in answers[world.lead.email]] == [False, False]
    assert [a["ready"] for a in answers[world.lead2.email]] == [True, True]
    mine = next(r for r in answers[world.lead.email][0]["rules"] if r["rule"] == "signoffs")
    assert mine["blocking"][0]["not_counted"] == [
        {"user": world.lead.email, "reason": "approving lead"}
    ]


def test_the_gate_panel_says_which_signoffs_do_not_count(world, client):
    answer_all(world)
    services.signoff_create(actor=world.lead, review=world.review)
    client.force_login(world.lead)
    page = client.get(f"/reviews/{world.review.pk}/").content.decode()
    panel = page[page.index('id="gate-title"') :]
    assert "Not counted" in panel and world.lead.email in panel


def test_the_dashboard_offers_an_approval_only_where_rule_5_allows_it(world):
    """The dashboard asks the gate who may approve: a lead who posted a revision (an author of
    the spec) is not offered it, nor is a site administrator who wrote the spec."""
    from reviews.selectors import dashboard
    from tests.accounts.factories import UserFactory
    from tests.reviews.factories import SpecFactory

    services.spec_post_revision(actor=world.lead2, spec=world.spec, label="r2")
    assert [r.pk for r in dashboard(world.lead)["to_approve"]] == [world.review.pk]
    assert dashboard(world.lead2)["to_approve"] == []
    admin = UserFactory(is_staff=True, is_superuser=True)
    spec = SpecFactory(project=world.project, author=admin)
    own = services.review_create(
        actor=admin, spec=spec, template_version_ids=[world.version.pk], reviewers=[]
    )
    services.review_submit(actor=admin, review=own)
    assert [r.pk for r in dashboard(admin)["to_approve"]] == [world.review.pk]
