"""Every transition from every state for every role, and the review lifecycle rules."""

import pytest

from audit.models import Event
from config.errors import Conflict, Forbidden, InvalidInput, NotFound
from reviews import services
from reviews.models import Review, ReviewState, SignOff
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_version, make_world

pytestmark = pytest.mark.django_db

S = ReviewState
TRANSITIONS = {
    "submit": (services.review_submit, {"comment": "ready"}),
    "request_changes": (services.review_request_changes, {"comment": "fix it"}),
    "approve": (services.review_approve, {"comment": "ship it"}),
    "reopen": (services.review_reopen, {"reason": "found a hole"}),
    "withdraw": (services.review_withdraw, {"reason": "obsolete"}),
}
SOURCES = {
    "submit": {S.DRAFT, S.CHANGES_REQUESTED},
    "request_changes": {S.IN_REVIEW},
    "approve": {S.IN_REVIEW},
    "reopen": {S.APPROVED},
    "withdraw": {S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED},
}
TARGET = {
    "submit": S.IN_REVIEW,
    "request_changes": S.CHANGES_REQUESTED,
    "approve": S.APPROVED,
    "reopen": S.IN_REVIEW,
    "withdraw": S.WITHDRAWN,
}
PERMITTED = {
    "submit": {"author", "lead", "superuser"},
    "withdraw": {"author", "lead", "superuser"},
    "request_changes": {"lead", "superuser"},
    "approve": {"lead", "superuser"},
    "reopen": {"lead", "superuser"},
}
ROLES = ["outsider", "viewer", "author", "reviewer", "lead", "superuser"]


def make_ready(world):
    """A review whose gate is open: every item passes and a reviewer signed off."""
    services.review_submit(actor=world.author, review=world.review)
    for item in world.version.items.all():
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass"
        )
    services.signoff_create(actor=world.reviewer, review=world.review)


@pytest.mark.parametrize("state", list(S.values))
@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("role", ROLES)
def test_transition_matrix(role, action, state):
    world = make_world()
    make_ready(world)
    Review.objects.filter(pk=world.review.pk).update(state=state)
    review = Review.objects.get(pk=world.review.pk)
    actor = (
        UserFactory(is_superuser=True, is_staff=True)
        if role == "superuser"
        else getattr(world, role)
    )
    func, kwargs = TRANSITIONS[action]
    events_before = Event.objects.count()
    if role == "outsider":
        expected = NotFound
    elif role not in PERMITTED[action]:
        expected = Forbidden
    elif state not in SOURCES[action]:
        expected = Conflict
    else:
        expected = None
    if expected is None:
        result = func(actor=actor, review=review, **kwargs)
        assert result.state == TARGET[action]
        event = Event.objects.filter(review_id=review.pk).last()
        assert event.verb == f"review.{action}"
        assert event.actor == actor
        assert event.before == {"state": state}
    else:
        with pytest.raises(expected):
            func(actor=actor, review=review, **kwargs)
        assert Review.objects.get(pk=review.pk).state == state
        assert Event.objects.count() == events_before


def test_refusal_names_the_reason():
    world = make_world()
    with pytest.raises(Conflict) as caught:
        services.review_approve(actor=world.lead, review=world.review)
    assert "draft" in caught.value.message
    assert caught.value.details["reasons"]


def test_reopen_needs_a_reason():
    world = make_world()
    make_ready(world)
    services.review_approve(actor=world.lead, review=world.review)
    with pytest.raises(InvalidInput):
        services.review_reopen(actor=world.lead, review=world.review, reason="  ")


def test_approved_review_is_read_only():
    world = make_world()
    make_ready(world)
    services.review_approve(actor=world.lead, review=world.review)
    item = world.version.items.first()
    with pytest.raises(Conflict, match="read-only"):
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict="fail", note="late"
        )
    with pytest.raises(Conflict, match="read-only"):
        services.finding_raise(
            actor=world.reviewer, review=world.review, severity="critical", title="late"
        )


def test_approval_writes_a_lead_signoff_and_mails_the_author(
    mailoutbox, django_capture_on_commit_callbacks
):
    world = make_world()
    make_ready(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.review_approve(actor=world.lead, review=world.review, comment="good")
    signoff = SignOff.objects.get(review=world.review, role="lead")
    assert signoff.decision == "approve" and len(signoff.digest) == 64
    assert any(world.author.email in m.to for m in mailoutbox)


def test_request_changes_notifies_author(mailoutbox, django_capture_on_commit_callbacks):
    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    with django_capture_on_commit_callbacks(execute=True):
        services.review_request_changes(actor=world.lead, review=world.review, comment="more")
    assert any("Changes requested" in m.subject and world.author.email in m.to for m in mailoutbox)


def test_review_needs_published_versions():
    world = make_world()
    draft = make_version(slug="draft-tpl", status="draft")
    with pytest.raises(InvalidInput, match="not published"):
        services.review_create(actor=world.author, spec=world.spec, template_version_ids=[draft.pk])
    with pytest.raises(InvalidInput, match="does not exist"):
        services.review_create(actor=world.author, spec=world.spec, template_version_ids=[999999])


def test_review_creation_makes_a_response_per_item_and_assigns(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        world = make_world()
    assert world.review.responses.count() == world.version.items.count()
    assert world.review.assignments.get().user == world.reviewer
    assert any(world.reviewer.email in m.to for m in mailoutbox)


def test_reviewers_must_be_reviewers_of_the_project():
    world = make_world()
    with pytest.raises(InvalidInput, match="Not a reviewer"):
        services.review_create(
            actor=world.author,
            spec=world.spec,
            template_version_ids=[world.version.pk],
            reviewers=[world.viewer.email],
        )
    with pytest.raises(InvalidInput, match="Unknown user"):
        services.review_create(
            actor=world.author,
            spec=world.spec,
            template_version_ids=[world.version.pk],
            reviewers=["ghost@example.com"],
        )


def test_lead_assigns_to_a_section():
    world = make_world()
    section = world.version.sections.first()
    assignment = services.review_assign(
        actor=world.lead, review=world.review, email=world.reviewer2.email, section_id=section.pk
    )
    assert assignment.section == section
    with pytest.raises(Conflict):
        services.review_assign(
            actor=world.lead,
            review=world.review,
            email=world.reviewer2.email,
            section_id=section.pk,
        )
    with pytest.raises(Forbidden):
        services.review_assign(
            actor=world.reviewer, review=world.review, email=world.reviewer2.email
        )


def test_available_actions_say_why_not():
    world = make_world()
    actions = services.available_actions(world.review, world.reviewer)
    assert actions["approve"] and "Only leads" in actions["approve"][0]
    lead_actions = services.available_actions(world.review, world.lead)
    assert lead_actions["submit"] == []
    assert any("draft" in reason for reason in lead_actions["approve"])
