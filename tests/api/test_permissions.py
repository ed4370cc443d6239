"""Role × action over the API: anonymous → 401, not a member → 404, a member without the
right → 403, a member with it → the success status. One parametrised matrix."""

import pytest

from reviews.services import review_submit
from tests.api.conftest import assert_error
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "viewer", "author", "reviewer", "lead"]
MEMBERS = {"viewer", "author", "reviewer", "lead"}


def _item(w):
    return w.review.responses.order_by("item__position").first().item_id


# name: (method, path(w), body(w), {role: status for the permitted}, status for other members)
ACTIONS = {
    "review detail": ("get", lambda w: f"/api/v1/reviews/{w.review.pk}/", None, MEMBERS, 200, None),
    "gate": ("get", lambda w: f"/api/v1/reviews/{w.review.pk}/gate/", None, MEMBERS, 200, None),
    "responses": (
        "get",
        lambda w: f"/api/v1/reviews/{w.review.pk}/responses/",
        None,
        MEMBERS,
        200,
        None,
    ),
    "report": ("get", lambda w: f"/api/v1/reviews/{w.review.pk}/report/", None, MEMBERS, 200, None),
    "project": ("get", lambda w: f"/api/v1/projects/{w.project.slug}/", None, MEMBERS, 200, None),
    "spec": ("get", lambda w: f"/api/v1/specs/{w.spec.pk}/", None, MEMBERS, 200, None),
    "answer": (
        "patch",
        lambda w: f"/api/v1/reviews/{w.review.pk}/responses/{_item(w)}/",
        lambda w: {"verdict": "pass"},
        {"reviewer", "lead"},
        200,
        403,
    ),
    "raise finding": (
        "post",
        lambda w: f"/api/v1/reviews/{w.review.pk}/findings/",
        lambda w: {"severity": "suggestion", "title": "Name the metric"},
        {"reviewer", "lead"},
        201,
        403,
    ),
    "sign off": (
        "post",
        lambda w: f"/api/v1/reviews/{w.review.pk}/signoffs/",
        lambda w: {"comment": "ok"},
        {"reviewer", "lead"},
        201,
        403,
    ),
    "request changes": (
        "post",
        lambda w: f"/api/v1/reviews/{w.review.pk}/request-changes/",
        lambda w: {"comment": "fix"},
        {"lead"},
        200,
        403,
    ),
    "approve (gate closed)": (
        "post",
        lambda w: f"/api/v1/reviews/{w.review.pk}/approve/",
        lambda w: {"comment": "ship"},
        {"lead"},
        409,
        403,
    ),
    "withdraw": (
        "post",
        lambda w: f"/api/v1/reviews/{w.review.pk}/withdraw/",
        lambda w: {"reason": "obsolete"},
        {"author", "lead"},
        200,
        403,
    ),
    "post revision": (
        "post",
        lambda w: f"/api/v1/specs/{w.spec.pk}/revisions/",
        lambda w: {"label": "r2", "note": "more"},
        {"author", "lead"},
        201,
        403,
    ),
    "add member": (
        "post",
        lambda w: f"/api/v1/projects/{w.project.slug}/members/",
        lambda w: {"user": w.outsider.email, "role": "viewer"},
        {"lead"},
        201,
        403,
    ),
    "project settings": (
        "patch",
        lambda w: f"/api/v1/projects/{w.project.slug}/",
        lambda w: {"required_signoffs": 2},
        {"lead"},
        200,
        403,
    ),
    "webhook detail": (
        "get",
        lambda w: f"/api/v1/webhooks/{w.hook.pk}/",
        None,
        {"lead"},
        200,
        403,
    ),
    "webhook deliveries": (
        "get",
        lambda w: f"/api/v1/webhooks/{w.hook.pk}/deliveries/",
        None,
        {"lead"},
        200,
        403,
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_permission_matrix(world, as_user, role, name):
    method, path, body, permitted, ok_status, denied_status = ACTIONS[name]
    review_submit(actor=world.author, review=world.review)
    world.hook = webhook_create(
        actor=world.lead, project=world.project, url="http://127.0.0.1:9/hook"
    )
    user = None if role == "anonymous" else getattr(world, role)
    client = as_user(user)
    response = getattr(client, method)(path(world), body(world) if body else None, format="json")
    if role == "anonymous":
        assert_error(response, 401, "not_authenticated")
    elif role == "outsider":
        assert_error(response, 404, "not_found")
    elif role in permitted:
        assert response.status_code == ok_status, response.content
    else:
        assert_error(response, denied_status, "forbidden")


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/v1/specs/", lambda w: {"project": w.project.slug, "title": "Secret"}),
        ("/api/v1/reviews/", lambda w: {"spec": w.spec.pk, "template_versions": [w.version.pk]}),
        ("/api/v1/webhooks/", lambda w: {"project": w.project.slug, "url": "https://x.test/h"}),
    ],
)
def test_outsiders_cannot_create_in_projects_they_cannot_see(world, as_user, path, body):
    error = assert_error(as_user(world.outsider).post(path, body(world), format="json"), 400)
    assert set(error["details"]) & {"project", "spec"}


def test_lists_only_show_visible_objects(world, as_user, db):
    from tests.reviews.factories import make_world

    other = make_world()
    client = as_user(world.reviewer)
    assert [p["slug"] for p in client.get("/api/v1/projects/").json()["results"]] == [
        world.project.slug
    ]
    assert [r["id"] for r in client.get("/api/v1/reviews/").json()["results"]] == [world.review.pk]
    assert [s["id"] for s in client.get("/api/v1/specs/").json()["results"]] == [world.spec.pk]
    events = client.get("/api/v1/events/").json()["results"]
    assert {e["project"] for e in events} == {world.project.slug, None}
    # events without a project: only the user's own (their token) for a non-curator
    assert {e["actor"] for e in events if e["project"] is None} == {world.reviewer.email}
    assert client.get(f"/api/v1/events/?project={other.project.slug}").json()["results"] == []
