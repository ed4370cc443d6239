"""Who may see and change what: every browser page and API read × every role × an object in
scope and one out of scope, then the main browser writes, then fields nobody may set.

Rules (DESIGN.md "Roles and permissions"): anonymous → the sign-in page (browser) or 401 (API);
not a member of the object's project → 404, never 403; a member → 200, or 403 where the role
lacks the right; curators read draft checklists; superusers see everything.
"""

import pytest
from django.utils import timezone

from audit.models import Event
from reviews.models import Finding, Review, SignOff, Spec
from reviews.services._common import content_digest
from tests.security.conftest import CANARY, MEMBER_ROLES, ROLES, build_data, rolled_back

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        yield build_data()


# --- reads ---------------------------------------------------------------------------------
# (kind, access, path(data, world-or-version)). Access:
#   "signed-in": any signed-in user; the body never shows another project (the canary).
#   "project": members of the object's project read it.
#   "project-lead": only the project's leads (other members 403).
#   "checklist": published versions for everyone signed in; drafts for curators only.

READS = {
    # browser pages
    "dashboard": ("page", "signed-in", lambda d, o: "/"),
    "insights": ("page", "signed-in", lambda d, o: "/insights/"),
    "project list": ("page", "signed-in", lambda d, o: "/projects/"),
    "tokens": ("page", "signed-in", lambda d, o: "/tokens/"),
    "checklist library": ("page", "signed-in", lambda d, o: "/checklists/"),
    "project": ("page", "project", lambda d, w: f"/projects/{w.project.slug}/"),
    "spec": ("page", "project", lambda d, w: f"/specs/{w.spec.pk}/"),
    "review": ("page", "project", lambda d, w: f"/reviews/{w.review.pk}/"),
    "report": ("page", "project", lambda d, w: f"/reviews/{w.review.pk}/report/"),
    "report.md": ("page", "project", lambda d, w: f"/reviews/{w.review.pk}/report.md"),
    "report.csv": ("page", "project", lambda d, w: f"/reviews/{w.review.pk}/report.csv"),
    "checklist": ("page", "checklist", lambda d, v: f"/checklists/{v.template.slug}/"),
    "checklist version": (
        "page",
        "checklist",
        lambda d, v: f"/checklists/{v.template.slug}/v{v.number}/",
    ),
    "checklist compare": (
        "page",
        "checklist",
        lambda d, v: f"/checklists/{v.template.slug}/compare/",
    ),
    "checklist export": (
        "page",
        "checklist",
        lambda d, v: f"/checklists/{v.template.slug}/v{v.number}/export.md",
    ),
    # API
    "api me": ("api", "signed-in", lambda d, o: "/api/v1/me/"),
    "api tokens": ("api", "signed-in", lambda d, o: "/api/v1/tokens/"),
    "api projects": ("api", "signed-in", lambda d, o: "/api/v1/projects/"),
    "api specs": ("api", "signed-in", lambda d, o: "/api/v1/specs/"),
    "api reviews": ("api", "signed-in", lambda d, o: "/api/v1/reviews/"),
    "api events": ("api", "signed-in", lambda d, o: "/api/v1/events/"),
    "api events of B": ("api", "signed-in", lambda d, o: f"/api/v1/events/?review={d.b.review.pk}"),
    "api webhooks": ("api", "signed-in", lambda d, o: "/api/v1/webhooks/"),
    "api checklists": ("api", "signed-in", lambda d, o: "/api/v1/checklists/"),
    "api project": ("api", "project", lambda d, w: f"/api/v1/projects/{w.project.slug}/"),
    "api members": ("api", "project", lambda d, w: f"/api/v1/projects/{w.project.slug}/members/"),
    "api spec": ("api", "project", lambda d, w: f"/api/v1/specs/{w.spec.pk}/"),
    "api revisions": ("api", "project", lambda d, w: f"/api/v1/specs/{w.spec.pk}/revisions/"),
    "api review": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/"),
    "api responses": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/responses/"),
    "api response": (
        "api",
        "project",
        lambda d, w: (
            f"/api/v1/reviews/{w.review.pk}/responses/{w.review.responses.first().item_id}/"
        ),
    ),
    "api findings": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/findings/"),
    "api finding": (
        "api",
        "project",
        lambda d, w: f"/api/v1/reviews/{w.review.pk}/findings/{w.finding.pk}/",
    ),
    "api signoffs": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/signoffs/"),
    "api overrides": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/overrides/"),
    "api gate": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/gate/"),
    "api report": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/report/"),
    "api report.csv": ("api", "project", lambda d, w: f"/api/v1/reviews/{w.review.pk}/report.csv"),
    "api webhook": ("api", "project-lead", lambda d, w: f"/api/v1/webhooks/{w.hook.pk}/"),
    "api webhook deliveries": (
        "api",
        "project-lead",
        lambda d, w: f"/api/v1/webhooks/{w.hook.pk}/deliveries/",
    ),
    "api checklist": ("api", "checklist", lambda d, v: f"/api/v1/checklists/{v.template.slug}/"),
    "api checklist version": (
        "api",
        "checklist",
        lambda d, v: f"/api/v1/checklists/{v.template.slug}/versions/{v.number}/",
    ),
    "api checklist export": (
        "api",
        "checklist",
        lambda d, v: f"/api/v1/checklists/{v.template.slug}/versions/{v.number}/export/",
    ),
}


def _scopes(access: str) -> list[str]:
    return ["-"] if access == "signed-in" else ["in", "out"]


def expected_status(access: str, role: str, scope: str) -> int:
    """The status a signed-in ``role`` gets; 404 whenever the object is out of its reach."""
    if access == "signed-in" or role == "superuser":
        return 200
    if access == "checklist":
        return 200 if scope == "in" or role == "curator" else 404
    if role not in MEMBER_ROLES or scope == "out":
        return 404
    if access == "project-lead" and role != "lead":
        return 403
    return 200


def _target(data, access, scope):
    if access == "checklist":
        return data.published if scope == "in" else data.draft
    return data.a if scope == "in" else data.b


def check_cell(data, name: str, role: str, scope: str) -> str | None:
    """None when the cell behaves as the rules say, else what went wrong."""
    kind, access, path = READS[name]
    url = path(data, _target(data, access, scope))
    client = data.browser(role) if kind == "page" else data.api(role)
    response = client.get(url)
    status, location = response.status_code, response.get("Location", "")
    if role == "anonymous":
        if kind == "page" and (status != 302 or not location.startswith("/accounts/login/?next=")):
            return f"{url}: {status} {location}, expected the sign-in page"
        if kind == "api" and (
            status != 401 or response.json()["error"]["code"] != "not_authenticated"
        ):
            return f"{url}: {status}, expected 401"
        return None
    expected = expected_status(access, role, scope)
    if name == "checklist" and expected == 200:
        # The template's page sends the reader on to its current version.
        if status != 302 or not location.startswith(url + "v"):
            return f"{url}: {status} {location}, expected a redirect to a version"
        return None
    if status != expected:
        return f"{url}: {status}, expected {expected}"
    if kind == "api" and status != 200:
        code = response.json()["error"]["code"]
        if code != {403: "forbidden", 404: "not_found"}[status]:
            return f"{url}: error code {code}"
    if role != "superuser" and CANARY in response.content.decode():
        return f"{url}: shows another project's data"
    return None


@pytest.mark.parametrize("name", list(READS))
def test_read_matrix(data, name):
    """One URL per test; every role × scope cell is checked and all wrong cells reported."""
    access = READS[name][1]
    wrong = {
        f"{role}|{scope}": problem
        for role in ROLES
        for scope in _scopes(access)
        if (problem := check_cell(data, name, role, scope))
    }
    assert not wrong


# --- browser writes ------------------------------------------------------------------------


def _first_item(world):
    return world.review.responses.order_by("item__position").first()


WRITES = {
    # name: (path(world), body(world), roles allowed, proof the write happened(world) -> bool)
    "answer": (
        lambda w: f"/reviews/{w.review.pk}/items/{_first_item(w).item_id}/",
        lambda w: {
            "verdict": "fail",
            "note": "Not written down",
            "version": _first_item(w).version,
        },
        {"reviewer", "lead"},
        lambda w: _first_item(w).verdict == "fail",
    ),
    "raise finding": (
        lambda w: f"/reviews/{w.review.pk}/findings/",
        lambda w: {"severity": "important", "title": "Retry storms"},
        {"reviewer", "lead"},
        lambda w: w.review.findings.filter(title="Retry storms").exists(),
    ),
    "sign off": (
        lambda w: f"/reviews/{w.review.pk}/actions/signoff/",
        lambda w: {"comment": "reviewed"},
        {"reviewer", "lead"},
        lambda w: w.review.signoffs.filter(comment="reviewed").exists(),
    ),
    "approve": (
        lambda w: f"/reviews/{w.review.pk}/actions/approve/",
        lambda w: {"comment": "ship it"},
        {"lead"},
        lambda w: Review.objects.get(pk=w.review.pk).state == "approved",
    ),
}


def snapshot(*worlds) -> list:
    """Everything a write could change, for both projects."""
    rows = []
    for world in worlds:
        review = Review.objects.get(pk=world.review.pk)
        rows.append(
            (
                review.state,
                review.content_version,
                list(
                    review.responses.order_by("item_id").values_list(
                        "verdict", "note", "version", "answered_by_id"
                    )
                ),
                list(review.findings.order_by("id").values_list("title", "status")),
                list(review.signoffs.order_by("id").values_list("user_id", "stale", "digest")),
                Event.objects.filter(review_id=review.pk).count(),
            )
        )
    rows.append(Event.objects.count())
    return rows


@pytest.mark.parametrize("scope", ["in", "out"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_write_matrix(data, name, role, scope):
    path, body, allowed, happened = WRITES[name]
    world = data.a if scope == "in" else data.b
    before = snapshot(data.a, data.b)
    response = data.browser(role).post(path(world), body(world))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    elif role == "superuser" or (scope == "in" and role in allowed):
        assert response.status_code == 302, response.content[:300]
        assert happened(world), f"{role} could not {name}"
        return
    elif scope == "out" or role not in MEMBER_ROLES:
        assert response.status_code == 404
    else:
        assert response.status_code == 403
    assert snapshot(data.a, data.b) == before, f"a refused {name} changed something"


# --- fields nobody sets --------------------------------------------------------------------


def test_browser_answer_ignores_answered_by_and_state(data):
    world = data.a
    response = _first_item(world)
    client = data.browser("reviewer")
    resp = client.post(
        f"/reviews/{world.review.pk}/items/{response.item_id}/",
        {
            "verdict": "fail",
            "note": "Missing",
            "version": response.version,
            "answered_by": world.lead.pk,
            "answered_at": "2001-01-01T00:00:00Z",
            "state": "approved",
            "review": data.b.review.pk,
        },
    )
    assert resp.status_code == 302
    response.refresh_from_db()
    assert (response.verdict, response.answered_by_id) == ("fail", world.reviewer.pk)
    assert response.answered_at > timezone.now() - timezone.timedelta(minutes=1)
    assert Review.objects.get(pk=world.review.pk).state == "in_review"
    assert _first_item(data.b).answered_by_id == data.b.reviewer2.pk


def test_browser_finding_and_spec_ignore_owner_and_status(data):
    world = data.a
    client = data.browser("lead")
    client.post(
        f"/reviews/{world.review.pk}/findings/",
        {"severity": "critical", "title": "Forged", "status": "resolved", "raised_by": 1},
    )
    finding = world.review.findings.get(title="Forged")
    assert (finding.status, finding.raised_by_id) == ("open", world.lead.pk)
    client.post(
        f"/projects/{world.project.slug}/specs/",
        {"title": "Mine", "revision_label": "r1", "author": world.viewer.pk, "project": 999},
    )
    spec = Spec.objects.get(title="Mine")
    assert (spec.author_id, spec.project_id) == (world.lead.pk, world.project.pk)


def test_api_answer_ignores_answered_by(data):
    world = data.a
    response = _first_item(world)
    resp = data.api("reviewer").patch(
        f"/api/v1/reviews/{world.review.pk}/responses/{response.item_id}/",
        {
            "verdict": "fail",
            "note": "Missing",
            "version": response.version,
            "answered_by": world.lead.email,
            "answered_at": "2001-01-01T00:00:00Z",
            "needs_recheck": True,
        },
        format="json",
    )
    assert resp.status_code in (200, 400), resp.content
    response.refresh_from_db()
    if resp.status_code == 200:
        assert (response.verdict, response.answered_by_id) == ("fail", world.reviewer.pk)
        assert response.needs_recheck is False
    else:
        assert response.verdict == "pass"


def test_api_review_and_spec_creation_ignore_state_and_owner(data):
    world = data.a
    author = data.api("author")
    resp = author.post(
        "/api/v1/specs/",
        {"project": world.project.slug, "title": "Own spec", "author": world.lead.email},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    spec = Spec.objects.get(pk=resp.json()["id"])
    assert spec.author_id == world.author.pk
    resp = author.post(
        "/api/v1/reviews/",
        {
            "spec": spec.pk,
            "template_versions": [world.version.pk],
            "state": "approved",
            "created_by": world.lead.email,
            "approved_at": "2001-01-01T00:00:00Z",
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    review = Review.objects.get(pk=resp.json()["id"])
    assert (review.state, review.created_by_id, review.approved_at) == (
        "draft",
        world.author.pk,
        None,
    )


def test_api_review_state_cannot_be_written_directly(data):
    world = data.a
    for method in ("patch", "put"):
        resp = getattr(data.api("lead"), method)(
            f"/api/v1/reviews/{world.review.pk}/", {"state": "approved"}, format="json"
        )
        assert resp.status_code == 405
    assert Review.objects.get(pk=world.review.pk).state == "in_review"


def test_api_signoff_and_finding_ignore_digest_user_and_status(data):
    world = data.a
    client = data.api("reviewer")
    resp = client.post(
        f"/api/v1/reviews/{world.review.pk}/signoffs/",
        {
            "comment": "ok",
            "digest": "0" * 64,
            "user": world.lead.email,
            "role": "lead",
            "decision": "request_changes",
            "stale": True,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    signoff = SignOff.objects.get(pk=resp.json()["id"])
    review = Review.objects.get(pk=world.review.pk)
    assert signoff.user_id == world.reviewer.pk
    assert (signoff.role, signoff.decision, signoff.stale) == ("reviewer", "approve", False)
    assert signoff.digest == content_digest(review)
    resp = client.post(
        f"/api/v1/reviews/{world.review.pk}/findings/",
        {
            "severity": "suggestion",
            "title": "Forged owner",
            "status": "resolved",
            "raised_by": world.lead.email,
            "review": data.b.review.pk,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.content
    finding = Finding.objects.get(pk=resp.json()["id"])
    assert (finding.status, finding.raised_by_id, finding.review_id) == (
        "open",
        world.reviewer.pk,
        world.review.pk,
    )
