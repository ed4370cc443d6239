"""Projects, memberships and the permission module's two faces."""

import pytest

from audit.models import Event
from config.errors import Conflict, Forbidden, InvalidInput, NotFound
from reviews import permissions, services
from reviews.models import Membership
from reviews.selectors import dashboard, progress_for_reviews, reviews_for_list
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "flags",
    [{}, {"is_staff": True}, {"curator": True}, {"is_staff": True, "curator": True}],
    ids=["user", "staff", "curator", "staff curator"],
)
def test_only_site_administrators_create_projects(flags):
    admin = UserFactory(is_staff=True, is_superuser=True)
    project = services.project_create(actor=admin, slug="payments", name="Payments")
    assert Event.objects.get(verb="project.created").project_id == project.pk
    with pytest.raises(Forbidden):
        services.project_create(actor=UserFactory(**flags), slug="other", name="Other")
    with pytest.raises(InvalidInput):
        services.project_create(actor=admin, slug="payments", name="Duplicate")
    with pytest.raises(InvalidInput):
        services.project_create(actor=admin, slug="has spaces", name="Bad slug")


def test_leads_manage_members_and_events_record_it():
    world = make_world()
    newcomer = UserFactory()
    membership, created = services.membership_set(
        actor=world.lead, project=world.project, email=newcomer.email, role="reviewer"
    )
    assert created and membership.role == "reviewer"
    assert permissions.role_in(newcomer, world.project.pk) == "reviewer"
    services.membership_set(
        actor=world.lead, project=world.project, email=newcomer.email, role="author"
    )
    services.membership_remove(actor=world.lead, project=world.project, email=newcomer.email)
    verbs = list(
        Event.objects.filter(verb__startswith="membership.").values_list("verb", flat=True)
    )
    assert verbs[-3:] == ["membership.added", "membership.changed", "membership.removed"]


@pytest.mark.parametrize(
    ("who", "error"), [("reviewer", Forbidden), ("viewer", Forbidden), ("outsider", NotFound)]
)
def test_non_leads_cannot_manage_members(who, error):
    world = make_world()
    with pytest.raises(error):
        services.membership_set(
            actor=getattr(world, who), project=world.project, email=world.viewer.email, role="lead"
        )
    assert Membership.objects.get(user=world.viewer).role == "viewer"


@pytest.mark.parametrize(
    "flags",
    [{"is_staff": True}, {"curator": True}, {"is_staff": True, "curator": True}],
    ids=["staff", "curator", "staff curator"],
)
def test_staff_and_curators_do_not_manage_members_of_a_project_they_are_not_in(flags):
    """Issue 13: the project is not found for them (404), whatever flags they carry."""
    world = make_world()
    user = UserFactory(**flags)
    with pytest.raises(NotFound):
        services.membership_set(actor=user, project=world.project, email=user.email, role="lead")
    with pytest.raises(NotFound):
        services.membership_remove(actor=user, project=world.project, email=world.viewer.email)
    assert not Membership.objects.filter(user=user).exists()
    assert Membership.objects.filter(user=world.viewer).exists()


def test_site_administrators_staff_any_project():
    world = make_world()
    admin = UserFactory(is_staff=True, is_superuser=True)
    services.membership_set(
        actor=admin, project=world.project, email=world.outsider.email, role="lead"
    )
    assert permissions.role_in(world.outsider, world.project.pk) == "lead"


def test_last_lead_cannot_leave():
    world = make_world()
    services.membership_remove(actor=world.lead, project=world.project, email=world.lead2.email)
    with pytest.raises(Conflict, match="at least one lead"):
        services.membership_remove(actor=world.lead, project=world.project, email=world.lead.email)
    with pytest.raises(Conflict, match="at least one lead"):
        services.membership_set(
            actor=world.lead, project=world.project, email=world.lead.email, role="viewer"
        )


def test_unknown_role_and_user_are_named():
    world = make_world()
    with pytest.raises(InvalidInput, match="Unknown role 'boss'"):
        services.membership_set(
            actor=world.lead, project=world.project, email=world.viewer.email, role="boss"
        )
    with pytest.raises(InvalidInput, match="ghost@example.com"):
        services.membership_set(
            actor=world.lead, project=world.project, email="ghost@example.com", role="viewer"
        )


def test_override_permission_only_for_leads():
    world = make_world()
    with pytest.raises(InvalidInput):
        services.membership_set(
            actor=world.lead,
            project=world.project,
            email=world.reviewer.email,
            role="reviewer",
            can_override=True,
        )


def test_visibility_is_per_project():
    first, second = make_world(), make_world()
    assert list(permissions.reviews_visible_to(first.reviewer)) == [first.review]
    assert list(permissions.projects_visible_to(second.viewer)) == [second.project]
    root = UserFactory(is_superuser=True)
    assert permissions.reviews_visible_to(root).count() == 2
    inactive = UserFactory(is_active=False)
    Membership.objects.create(project=first.project, user=inactive, role="lead")
    assert not permissions.reviews_visible_to(inactive).exists()


def test_spec_creation_by_authors_and_leads_only():
    world = make_world()
    spec = services.spec_create(
        actor=world.author,
        project=world.project,
        title="Billing v2",
        link="https://docs.example.com/billing",
    )
    assert spec.revisions.get().posted_by == world.author
    with pytest.raises(Forbidden):
        services.spec_create(actor=world.reviewer, project=world.project, title="Nope")
    with pytest.raises(NotFound):
        services.spec_create(actor=world.outsider, project=world.project, title="Nope")
    with pytest.raises(InvalidInput, match="link"):
        services.spec_create(
            actor=world.author, project=world.project, title="Bad link", link="not a url"
        )


@pytest.mark.parametrize("reviews", [2, 20])
def test_list_and_dashboard_queries_do_not_grow(reviews, django_assert_max_num_queries):
    world = make_world()
    for _ in range(reviews - 1):
        services.review_create(
            actor=world.author,
            spec=world.spec,
            template_version_ids=[world.version.pk],
            reviewers=[world.reviewer.email],
        )
    with django_assert_max_num_queries(7):
        rows = list(reviews_for_list(world.reviewer))
        progress_for_reviews(rows)
        for row in rows:
            [rt.version.template.slug for rt in row.review_templates.all()]
    assert len(rows) == reviews
    with django_assert_max_num_queries(12):
        board = dashboard(world.reviewer)
    assert len(board["todo"]) == reviews


def test_lists_have_no_duplicates_for_members_and_superusers():
    world = make_world()
    services.review_create(
        actor=world.author, spec=world.spec, template_version_ids=[world.version.pk]
    )
    root = UserFactory(is_superuser=True)
    for user in (world.reviewer, world.lead, root):
        ids = [r.pk for r in reviews_for_list(user)]
        assert len(ids) == len(set(ids)) == 2
