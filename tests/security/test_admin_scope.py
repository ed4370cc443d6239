"""The admin holds the same rules as the browser and the API (issue 13): ``is_staff`` only opens
it, a project's objects are not found (404) for whoever is not a member, whatever Django
permissions or flags they carry, and a curator sees the checklist models only."""

import pytest
from django.contrib.auth.models import Permission

from audit.models import Event
from reviews.models import Membership
from reviews.services import override_grant
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_world
from tests.security.conftest import make_gate_ready
from webhooks.models import Delivery
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


def _world(title: str):
    world = make_world()
    make_gate_ready(world, title)
    world.override = override_grant(
        actor=world.lead, review=world.review, rule="signoffs", justification="agreed"
    )
    world.hook = webhook_create(
        actor=world.lead, project=world.project, url="https://hooks.example.invalid/hook"
    )
    world.delivery = Delivery.objects.create(
        webhook=world.hook,
        event=Event.objects.filter(project_id=world.project.pk).latest("id"),
        event_type="review.submitted",
    )
    return world


def _object_pages(world) -> dict[str, str]:
    """Every admin page of one of the project's objects."""
    objects = {
        "reviews/project": world.project.pk,
        "reviews/membership": world.project.memberships.first().pk,
        "reviews/spec": world.spec.pk,
        "reviews/review": world.review.pk,
        "reviews/finding": world.finding.pk,
        "reviews/signoff": world.review.signoffs.first().pk,
        "reviews/override": world.override.pk,
        "webhooks/webhook": world.hook.pk,
        "webhooks/delivery": world.delivery.pk,
        "audit/event": Event.objects.filter(project_id=world.project.pk).first().pk,
    }
    return {
        f"{model} {page}": f"/admin/{model}/{pk}/{page}/"
        for model, pk in objects.items()
        for page in ("change", "history", "delete")
    }


LISTS = [
    "reviews/project",
    "reviews/membership",
    "reviews/spec",
    "reviews/review",
    "reviews/finding",
    "reviews/signoff",
    "reviews/override",
    "webhooks/webhook",
    "webhooks/delivery",
]


@pytest.mark.parametrize(
    "flags",
    [
        {"is_staff": True},
        {"is_staff": True, "curator": True},
        {"is_staff": True, "curator": True, "all_permissions": True},
    ],
    ids=["staff", "staff curator", "staff curator with every permission"],
)
def test_a_non_member_gets_404_on_every_admin_page_of_a_project(client, flags):
    flags = dict(flags)
    every = flags.pop("all_permissions", False)
    world = _world("Outsiders never read this")
    user = UserFactory(**flags)
    if every:
        user.user_permissions.add(*Permission.objects.all())
    client.force_login(user)
    wrong = {}
    for name, url in _object_pages(world).items():
        response = client.get(url)
        if response.status_code != 404:
            wrong[name] = response.status_code
    assert not wrong
    for model in LISTS:
        response = client.get(f"/admin/{model}/")
        assert response.status_code in (200, 403), (model, response.status_code)
        assert b"Outsiders never read this" not in response.content
        assert world.project.slug.encode() not in response.content, model
    assert not Membership.objects.filter(user=user).exists()


def test_a_staff_lead_reads_their_own_projects_objects_only(client):
    """With the admin's view permissions, a member sees their own project's objects there and
    gets 404 on another project's."""
    mine, other = _world("Mine"), _world("Theirs")
    staff = mine.lead
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    staff.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(staff)
    for name, url in _object_pages(mine).items():
        if name.endswith(" change") and not name.startswith("audit/"):
            assert client.get(url).status_code == 200, name
    for name, url in _object_pages(other).items():
        assert client.get(url).status_code == 404, name
    form = client.get("/admin/reviews/membership/add/")
    if form.status_code == 200:  # the project choices are the lead's projects only
        assert other.project.name.encode() not in form.content


def test_a_curator_sees_the_checklist_models_only(client):
    _world("Hidden")
    curator = UserFactory(is_staff=True, curator=True)
    client.force_login(curator)
    response = client.get("/admin/")
    assert response.status_code == 200
    models = {
        (app["app_label"], model["object_name"])
        for app in response.context["app_list"]
        for model in app["models"]
    }
    assert models == {("checklists", "ChecklistTemplate"), ("checklists", "TemplateVersion")}


def test_renaming_a_project_in_the_admin_goes_through_the_service_and_is_audited(client):
    world = make_world()
    old_name = world.project.name
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        f"/admin/reviews/project/{world.project.pk}/change/",
        {
            "name": "Renamed",
            "description": "Now described",
            "required_signoffs": world.project.required_signoffs,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    world.project.refresh_from_db()
    assert (world.project.name, world.project.description) == ("Renamed", "Now described")
    event = Event.objects.filter(verb="project.settings_changed").get()
    assert event.actor_id == root.pk
    assert (event.before["name"], event.after["name"]) == (old_name, "Renamed")
