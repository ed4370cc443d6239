"""Role × operation over the API: every write operation of the OpenAPI schema (and the reads
that are not plain lists) × the ten roles (the staff and staff-curator non-members among them) × an object in the user's project and one out of it.

Expected outcomes come from ``RULES`` in tests/security/test_access_matrix.py (DESIGN.md's role
rules, written once): anonymous → 401; out of reach → 404 (a create that names an out-of-reach
project or spec in its body → the same 400 as an unknown one, never 403); a member without the
right → 403; with it → the operation's success status. A refused write changes nothing.
"""

import pytest

from accounts.models import ApiToken
from checklists.models import ChecklistTemplate, TemplateVersion
from reviews.models import Finding, Membership, Project, Review, Spec
from tests.api.conftest import SIMPLE_CHECKLIST, assert_error
from tests.security.conftest import ROLES, rolled_back
from tests.security.test_access_matrix import (
    RULES,
    build_matrix_data,
    outcome,
    snapshot,
    token_of,
    world_of,
)
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        yield build_matrix_data()


def _first(w):
    return w.review.responses.order_by("item__position").first()


def _set_state(state):
    return lambda d, w: Review.objects.filter(pk=w.review.pk).update(state=state)


def _resolved(d, w):
    Finding.objects.filter(pk=w.finding.pk).update(status="resolved", resolution_note="fixed")


def _state(w) -> str:
    return Review.objects.get(pk=w.review.pk).state


REVIEW = "/api/v1/reviews/{w.review.pk}"

# name: (rule, target, method, path(d, t), body(d, t) or None, success status,
#        proof(d, t, response), precondition(d, t) or None, status when out of reach)
# ``target`` as in the browser matrix: the world in or out of the user's project, the user's
# own token or a stranger's, or a fixed object (one scope, "-").
OPERATIONS = {
    # --- reads with a rule of their own
    "read review": (
        "read",
        world_of,
        "get",
        lambda d, w: f"/api/v1/reviews/{w.review.pk}/",
        None,
        200,
        lambda d, w, r: r.json()["id"] == w.review.pk,
        None,
        404,
    ),
    "read webhook": (
        "manage webhooks",
        world_of,
        "get",
        lambda d, w: f"/api/v1/webhooks/{w.hook.pk}/",
        None,
        200,
        lambda d, w, r: r.json()["id"] == w.hook.pk,
        None,
        404,
    ),
    # --- checklists (curators)
    "POST /checklists/import/": (
        "manage checklists",
        None,
        "post",
        lambda d, t: "/api/v1/checklists/import/",
        lambda d, t: {"content": SIMPLE_CHECKLIST, "source_name": "m.md", "slug": "matrix-api"},
        201,
        lambda d, t, r: ChecklistTemplate.objects.filter(slug="matrix-api").exists(),
        None,
        None,
    ),
    "POST /checklists/{slug}/versions/{number}/publish/": (
        "manage checklists",
        lambda d, role, scope: d.draft,
        "post",
        lambda d, v: f"/api/v1/checklists/{v.template.slug}/versions/{v.number}/publish/",
        lambda d, v: {"changelog": "first"},
        200,
        lambda d, v, r: TemplateVersion.objects.get(pk=v.pk).status == "published",
        None,
        None,
    ),
    # --- projects
    "POST /projects/": (
        "create project",
        None,
        "post",
        lambda d, t: "/api/v1/projects/",
        lambda d, t: {"slug": "matrix-project", "name": "Matrix"},
        201,
        lambda d, t, r: Project.objects.filter(slug="matrix-project").exists(),
        None,
        None,
    ),
    "PATCH /projects/{slug}/": (
        "change settings",
        world_of,
        "patch",
        lambda d, w: f"/api/v1/projects/{w.project.slug}/",
        lambda d, w: {"required_signoffs": 3},
        200,
        lambda d, w, r: Project.objects.get(pk=w.project.pk).required_signoffs == 3,
        None,
        404,
    ),
    "POST /projects/{slug}/members/": (
        "manage members",
        world_of,
        "post",
        lambda d, w: f"/api/v1/projects/{w.project.slug}/members/",
        lambda d, w: {"user": w.outsider.email, "role": "viewer"},
        201,
        lambda d, w, r: Membership.objects.filter(project=w.project, user=w.outsider).exists(),
        None,
        404,
    ),
    "DELETE /projects/{slug}/members/{email}/": (
        "manage members",
        world_of,
        "delete",
        lambda d, w: f"/api/v1/projects/{w.project.slug}/members/{w.viewer.email}/",
        None,
        204,
        lambda d, w, r: not Membership.objects.filter(project=w.project, user=w.viewer).exists(),
        None,
        404,
    ),
    # --- specs
    "POST /specs/": (
        "create spec",
        world_of,
        "post",
        lambda d, w: "/api/v1/specs/",
        lambda d, w: {"project": w.project.slug, "title": "Matrix spec"},
        201,
        lambda d, w, r: Spec.objects.filter(project=w.project, title="Matrix spec").exists(),
        None,
        400,
    ),
    "POST /specs/{id}/revisions/": (
        "post revision",
        world_of,
        "post",
        lambda d, w: f"/api/v1/specs/{w.spec.pk}/revisions/",
        lambda d, w: {"label": "r2", "note": "second pass"},
        201,
        lambda d, w, r: w.spec.revisions.filter(label="r2").exists(),
        None,
        404,
    ),
    # --- reviews
    "POST /reviews/": (
        "create review",
        world_of,
        "post",
        lambda d, w: "/api/v1/reviews/",
        lambda d, w: {"spec": w.spec.pk, "template_versions": [w.version.pk]},
        201,
        lambda d, w, r: w.spec.reviews.count() == 2,
        None,
        400,
    ),
    "POST /reviews/{id}/submit/": (
        "submit",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/submit/".format(w=w),
        lambda d, w: {"comment": "again"},
        200,
        lambda d, w, r: _state(w) == "in_review",
        _set_state("changes_requested"),
        404,
    ),
    "POST /reviews/{id}/request-changes/": (
        "request changes",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/request-changes/".format(w=w),
        lambda d, w: {"comment": "fix it"},
        200,
        lambda d, w, r: _state(w) == "changes_requested",
        None,
        404,
    ),
    "POST /reviews/{id}/approve/": (
        "approve",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/approve/".format(w=w),
        lambda d, w: {"comment": "ship it"},
        200,
        lambda d, w, r: _state(w) == "approved",
        None,
        404,
    ),
    "POST /reviews/{id}/reopen/": (
        "reopen",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/reopen/".format(w=w),
        lambda d, w: {"reason": "regression found"},
        200,
        lambda d, w, r: _state(w) == "in_review",
        _set_state("approved"),
        404,
    ),
    "POST /reviews/{id}/withdraw/": (
        "withdraw",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/withdraw/".format(w=w),
        lambda d, w: {"reason": "obsolete"},
        200,
        lambda d, w, r: _state(w) == "withdrawn",
        None,
        404,
    ),
    "POST /reviews/{id}/migrate/": (
        "migrate",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/migrate/".format(w=w),
        lambda d, w: {"to_version": w.v2.pk},
        200,
        lambda d, w, r: w.review.review_templates.filter(version=w.v2).exists(),
        None,
        404,
    ),
    "POST /reviews/{id}/overrides/": (
        "override",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/overrides/".format(w=w),
        lambda d, w: {"rule": "signoffs", "justification": "agreed in the meeting"},
        201,
        lambda d, w, r: w.review.overrides.filter(rule="signoffs").exists(),
        None,
        404,
    ),
    "PATCH /reviews/{id}/responses/{item_id}/": (
        "answer",
        world_of,
        "patch",
        lambda d, w: f"{REVIEW}/responses/{_first(w).item_id}/".format(w=w),
        lambda d, w: {"verdict": "fail", "note": "Not written down", "version": _first(w).version},
        200,
        lambda d, w, r: _first(w).verdict == "fail",
        None,
        404,
    ),
    "PATCH /reviews/{id}/responses/": (
        "answer",
        world_of,
        "patch",
        lambda d, w: f"{REVIEW}/responses/".format(w=w),
        lambda d, w: {
            "responses": [{"item": _first(w).item_id, "verdict": "fail", "note": "Missing"}]
        },
        200,
        lambda d, w, r: _first(w).verdict == "fail",
        None,
        404,
    ),
    "POST /reviews/{id}/findings/": (
        "raise finding",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/findings/".format(w=w),
        lambda d, w: {"severity": "important", "title": "Retry storms"},
        201,
        lambda d, w, r: w.review.findings.filter(title="Retry storms").exists(),
        None,
        404,
    ),
    "PATCH /reviews/{id}/findings/{finding_id}/": (
        "edit finding",
        world_of,
        "patch",
        lambda d, w: f"{REVIEW}/findings/{w.finding.pk}/".format(w=w),
        lambda d, w: {"title": "Renamed"},
        200,
        lambda d, w, r: Finding.objects.get(pk=w.finding.pk).title == "Renamed",
        None,
        404,
    ),
    "POST /reviews/{id}/findings/{finding_id}/resolve/": (
        "resolve finding",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/findings/{w.finding.pk}/resolve/".format(w=w),
        lambda d, w: {"note": "named it"},
        200,
        lambda d, w, r: Finding.objects.get(pk=w.finding.pk).status == "resolved",
        None,
        404,
    ),
    "POST /reviews/{id}/findings/{finding_id}/reopen/": (
        "reopen finding",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/findings/{w.finding.pk}/reopen/".format(w=w),
        lambda d, w: {"note": "not really"},
        200,
        lambda d, w, r: Finding.objects.get(pk=w.finding.pk).status == "open",
        _resolved,
        404,
    ),
    "POST /reviews/{id}/signoffs/": (
        "sign off",
        world_of,
        "post",
        lambda d, w: f"{REVIEW}/signoffs/".format(w=w),
        lambda d, w: {"comment": "reviewed"},
        201,
        lambda d, w, r: w.review.signoffs.filter(comment="reviewed").exists(),
        None,
        404,
    ),
    # --- webhooks
    "POST /webhooks/": (
        "manage webhooks",
        world_of,
        "post",
        lambda d, w: "/api/v1/webhooks/",
        lambda d, w: {"project": w.project.slug, "url": "https://hooks.example.invalid/other"},
        201,
        lambda d, w, r: Webhook.objects.filter(url="https://hooks.example.invalid/other").exists(),
        None,
        400,
    ),
    "PATCH /webhooks/{id}/": (
        "manage webhooks",
        world_of,
        "patch",
        lambda d, w: f"/api/v1/webhooks/{w.hook.pk}/",
        lambda d, w: {"active": False},
        200,
        lambda d, w, r: Webhook.objects.get(pk=w.hook.pk).active is False,
        None,
        404,
    ),
    "DELETE /webhooks/{id}/": (
        "manage webhooks",
        world_of,
        "delete",
        lambda d, w: f"/api/v1/webhooks/{w.hook.pk}/",
        None,
        204,
        lambda d, w, r: not Webhook.objects.filter(pk=w.hook.pk).exists(),
        None,
        404,
    ),
    "POST /webhooks/{id}/deliveries/{delivery_id}/redeliver/": (
        "manage webhooks",
        world_of,
        "post",
        lambda d, w: f"/api/v1/webhooks/{w.hook.pk}/deliveries/{w.delivery.pk}/redeliver/",
        None,
        201,
        lambda d, w, r: Delivery.objects.filter(webhook=w.hook).count() == 2,
        None,
        404,
    ),
    # --- tokens (one's own)
    "POST /tokens/": (
        "own tokens",
        None,
        "post",
        lambda d, t: "/api/v1/tokens/",
        lambda d, t: {"name": "matrix token"},
        201,
        lambda d, t, r: ApiToken.objects.filter(name="matrix token").exists(),
        None,
        None,
    ),
    "POST /tokens/{id}/revoke/": (
        "own tokens",
        token_of,
        "post",
        lambda d, t: f"/api/v1/tokens/{t.pk}/revoke/",
        None,
        200,
        lambda d, t, r: ApiToken.objects.get(pk=t.pk).revoked_at is not None,
        None,
        404,
    ),
    "DELETE /tokens/{id}/": (
        "own tokens",
        token_of,
        "delete",
        lambda d, t: f"/api/v1/tokens/{t.pk}/",
        None,
        204,
        lambda d, t, r: ApiToken.objects.get(pk=t.pk).revoked_at is not None,
        None,
        404,
    ),
}


def _cells() -> list:
    cells = []
    for name, spec in OPERATIONS.items():
        scopes = ("in", "out") if spec[1] in (world_of, token_of) else ("-",)
        cells += [
            pytest.param(name, role, scope, id=f"{name}|{role}|{scope}")
            for role in ROLES
            for scope in scopes
        ]
    return cells


def test_every_write_operation_of_the_schema_is_in_the_matrix():
    """The matrix keeps up with the API: a new write operation fails here until it has a row."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    writes = {
        f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    }
    assert writes == {name for name in OPERATIONS if name.split()[0] != "read"}


@pytest.mark.parametrize("name,role,scope", _cells())
def test_permission_matrix(data, django_assert_max_num_queries, name, role, scope):
    rule, target, method, path, body, ok_status, happened, prepare, out_status = OPERATIONS[name]
    obj = target(data, role, scope) if target else None
    if prepare:
        with django_assert_max_num_queries(1):  # a cell's setup is one UPDATE, no more
            prepare(data, obj)
    before = snapshot()
    client = data.api(role)
    response = getattr(client, method)(
        path(data, obj), body(data, obj) if body else None, format="json"
    )
    expected = outcome(rule, role, scope)
    if expected == "login":
        assert_error(response, 401, "not_authenticated")
    elif expected == "ok":
        assert response.status_code == ok_status, response.content[:500]
        assert happened(data, obj, response), f"{role} could not {name}"
        return
    elif expected == "forbidden":
        # A draft checklist is invisible to whoever may not publish it: 404, not 403.
        if name.startswith("POST /checklists/{slug}"):
            assert_error(response, 404, "not_found")
        else:
            assert_error(response, 403)
    elif out_status == 400:
        # The out-of-reach project or spec is named in the body: the same answer as an
        # unknown one, never 403.
        error = assert_error(response, 400)
        assert set(error["details"]) & {"project", "spec"}, error
    else:
        assert_error(response, out_status, "not_found")
    assert snapshot() == before, f"a refused {name} changed something"


def test_outsiders_creates_look_like_unknown_references(data):
    """Naming a project or spec one cannot see answers exactly like naming none that exists."""
    client = data.api("outsider")
    for path, hidden, unknown in [
        ("/api/v1/specs/", {"project": data.a.project.slug}, {"project": "no-such-project"}),
        ("/api/v1/reviews/", {"spec": data.a.spec.pk}, {"spec": 10**9}),
        ("/api/v1/webhooks/", {"project": data.a.project.slug}, {"project": "no-such-project"}),
    ]:
        extra = {"title": "Secret", "template_versions": [data.a.version.pk]}
        extra["url"] = "https://x.test/h"
        a = client.post(path, {**extra, **hidden}, format="json")
        b = client.post(path, {**extra, **unknown}, format="json")
        assert a.status_code == b.status_code == 400
        assert a.json()["error"]["details"].keys() == b.json()["error"]["details"].keys()


def test_lists_only_show_visible_objects(data):
    world = data.a
    client = data.api("reviewer")
    assert [p["slug"] for p in client.get("/api/v1/projects/").json()["results"]] == [
        world.project.slug
    ]
    assert [r["id"] for r in client.get("/api/v1/reviews/").json()["results"]] == [world.review.pk]
    assert [s["id"] for s in client.get("/api/v1/specs/").json()["results"]] == [world.spec.pk]
    events = client.get("/api/v1/events/").json()["results"]
    assert {e["project"] for e in events} == {world.project.slug, None}
    # events without a project: only the user's own (their token) for a non-curator
    assert {e["actor"] for e in events if e["project"] is None} == {world.reviewer.email}
    other = data.b.project.slug
    assert client.get(f"/api/v1/events/?project={other}").json()["results"] == []


def test_rules_table_names_every_rule_used():
    used = {spec[0] for spec in OPERATIONS.values()}
    assert used <= set(RULES)
