import pytest

from audit.models import Event
from reviews.models import Membership, Project
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


def test_superuser_creates_project_through_the_service(client):
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        "/admin/reviews/project/add/",
        {
            "slug": "mobile",
            "name": "Mobile",
            "description": "",
            "required_signoffs": 1,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    project = Project.objects.get(slug="mobile")
    assert Event.objects.filter(verb="project.created", project_id=project.pk).exists()


def test_membership_added_in_admin_writes_an_event(client):
    world = make_world()
    root = UserFactory(is_staff=True, is_superuser=True)
    newcomer = UserFactory()
    client.force_login(root)
    response = client.post(
        "/admin/reviews/membership/add/",
        {
            "project": world.project.pk,
            "user": newcomer.pk,
            "role": "reviewer",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Membership.objects.get(user=newcomer).role == "reviewer"
    assert Event.objects.filter(verb="membership.added").exists()


def test_reviews_are_read_only_in_admin(client):
    world = make_world()
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get("/admin/reviews/review/").status_code == 200
    page = client.get(f"/admin/reviews/review/{world.review.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_staff_see_only_their_projects(client):
    mine, other = make_world(), make_world()
    staff = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="reviews", codename__startswith="view_")
    )
    Membership.objects.create(project=mine.project, user=staff, role="viewer")
    client.force_login(staff)
    page = client.get("/admin/reviews/review/")
    assert page.status_code == 200
    assert f"/admin/reviews/review/{mine.review.pk}/change/".encode() in page.content
    assert f"/admin/reviews/review/{other.review.pk}/change/".encode() not in page.content
