"""Who may see and change what: every browser page and API read, then every browser write (each
POST endpoint of the URLconfs, the admin's checklist pages among them), × the ten roles (the staff and staff-curator non-members among them) × an
object in the user's project and one out of it; then fields nobody may set.

The expected outcome of every write cell comes from ``RULES`` below, DESIGN.md's role rules
written down once (tests/api/test_permissions.py reads the same table for the API):
anonymous → the sign-in page (browser) or 401 (API); not a member of the object's project — a
curator, a staff user, a staff curator included — → 404, never 403; a member without the right →
403; a member with it, or a superuser anywhere, → success. A refused write changes nothing: no
audit event, no row. The admin (for ``is_staff`` users) follows the same rules: a project's
objects are 404 there for whoever is not a member, and a curator sees the checklist models only.
"""

import pytest
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import token_create
from audit.models import Event
from checklists.forms import pack_upload
from checklists.models import ChecklistTemplate, Section, TemplateVersion
from reviews.models import (
    Assignment,
    Finding,
    Membership,
    Override,
    Project,
    Response,
    Review,
    ReviewTemplate,
    SignOff,
    Spec,
    SpecRevision,
)
from reviews.services._common import content_digest
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_version
from tests.security.conftest import (
    ADMIN_ROLES,
    CANARY,
    MEMBER_ROLES,
    ROLES,
    build_data,
    rolled_back,
)
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.django_db

SIGNED_IN = frozenset(ROLES) - {"anonymous"}

# --- the rules ------------------------------------------------------------------------------
# DESIGN.md "Roles and permissions" (and the API contract's role notes), once. A project role
# holds only in its own project; a superuser (site administrator) may do everything everywhere;
# a curator holds no project role (curators manage templates and nothing else), and ``is_staff``
# only opens the admin: neither gives any power over a project. "(silent)": DESIGN.md does not say; the rule is what
# such users would expect, and the code agrees.
RULES = {
    "read": MEMBER_ROLES,  # "Viewers read" (and every role above them)
    # projects
    "create project": {"superuser"},  # API contract: "(site administrator)"; not staff
    "change settings": {"lead"},  # "changed only by project leads"
    "manage members": {"lead"},  # "(lead, site administrator)"; not staff, not curators
    "manage webhooks": {"lead"},  # (silent) project configuration, like the settings
    # specs and reviews
    "create spec": {"author", "lead"},  # "Authors create specs … Leads do all that"
    "post revision": {"author", "lead"},  # authors, on their specs (the fixture's author's)
    "create review": {"author", "lead"},
    "submit": {"author", "lead"},  # an author puts the spec up for review
    "withdraw": {"author", "lead"},  # (silent) whoever put it up, or a lead
    "assign reviewers": {"lead"},
    "migrate": {"lead"},  # (silent) moving a review to a new version steers it, like assigning
    # review work
    "answer": {"reviewer", "lead"},
    "raise finding": {"reviewer", "lead"},
    "edit finding": {"lead"},  # (silent) its raiser (reviewer2, not a role here) or a lead
    "resolve finding": {"author", "lead"},  # authors, on their specs
    "reopen finding": {"reviewer", "author", "lead"},  # (silent) who raises or resolves them
    "sign off": {"reviewer", "lead"},
    "request changes": {"lead"},
    "approve": {"lead"},
    "override": {"lead"},  # a lead with the override permission (the fixture's lead has it)
    "reopen": {"lead"},
    # site-wide
    "manage checklists": {"curator", "staff curator", "superuser"},  # "Curators manage templates"
    "own tokens": SIGNED_IN,  # personal: everyone their own; (silent) a superuser anyone's
}
SITE_RULES = {"create project", "manage checklists", "own tokens"}


def outcome(rule: str, role: str, scope: str) -> str:
    """What ``role`` gets for a ``rule`` write on an object in or out of its project:
    "login", "ok", "forbidden" (403) or "hidden" (404: out of reach, never 403)."""
    if role == "anonymous":
        return "login"
    if rule == "own tokens":  # "in": one's own token, "-": a new one, "out": someone else's
        if role not in RULES[rule]:
            return "forbidden"
        return "ok" if scope != "out" or role == "superuser" else "hidden"
    if rule in SITE_RULES:
        return "ok" if role in RULES[rule] else "forbidden"
    if role == "superuser":
        return "ok"
    if role in MEMBER_ROLES and scope == "in":
        return "ok" if role in RULES[rule] else "forbidden"
    return "hidden"


# --- data -----------------------------------------------------------------------------------


def build_matrix_data():
    """The security tests' two projects, plus what the writes need: a newer published version
    of each project's checklist (migrate), a delivery per webhook (redeliver), a second token
    per role (revoking it leaves the one in use) and a stranger's token."""
    data = build_data()
    for world in (data.a, data.b):
        world.v2 = make_version(number=2, template=world.version.template)
        world.delivery = Delivery.objects.create(
            webhook=world.hook,
            event=Event.objects.filter(project_id=world.project.pk).latest("id"),
            event_type="review.submitted",
        )
        world.section = Section.objects.filter(version=world.version).order_by("position").first()
    data.spare_tokens = {
        role: token_create(actor=user, name="spare").token for role, user in data.users.items()
    }
    data.stranger_token = token_create(actor=UserFactory(), name="stranger").token
    return data


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker):
    with rolled_back(django_db_blocker):
        yield build_matrix_data()


def snapshot() -> list:
    """Everything a write could change, in both projects and site-wide (not ``last_used_at``:
    using a token is not a write)."""

    def rows(model, *fields):
        return list(model.objects.order_by("pk").values_list("pk", *fields))

    return [
        Event.objects.aggregate(n=Count("id"), last=Max("id")),
        rows(Project, "slug", "name", "required_signoffs", "important_findings_block"),
        rows(Membership, "project_id", "user_id", "role", "can_override"),
        rows(Spec, "title", "link", "description", "revision_label", "author_id"),
        rows(SpecRevision, "label", "note"),
        rows(Review, "state", "content_version", "approved_at", "submitted_at", "updated_at"),
        rows(ReviewTemplate, "review_id", "version_id"),
        rows(Assignment, "review_id", "user_id", "section_id"),
        rows(Response, "verdict", "note", "version", "answered_by_id", "item_id"),
        rows(Finding, "title", "severity", "status", "resolution_note", "version"),
        rows(SignOff, "user_id", "stale", "digest"),
        rows(Override, "rule", "justification"),
        rows(ChecklistTemplate, "slug", "title"),
        rows(TemplateVersion, "status", "number", "changelog"),
        rows(Webhook, "url", "events", "active", "secret"),
        rows(Delivery, "status"),
        rows(ApiToken, "user_id", "name", "revoked_at"),
    ]


def world_of(data, role, scope):
    return data.a if scope == "in" else data.b


def token_of(data, role, scope):
    """The role's own (spare) token in scope; a stranger's out of it."""
    if scope == "in" and role != "anonymous":
        return data.spare_tokens[role]
    return data.stranger_token


def _first(world) -> Response:
    return world.review.responses.order_by("item__position").first()


def _set_state(state):
    return lambda d, w: Review.objects.filter(pk=w.review.pk).update(state=state)


def _resolved(d, w):
    Finding.objects.filter(pk=w.finding.pk).update(status="resolved", resolution_note="fixed")


def _review_state(w) -> str:
    return Review.objects.get(pk=w.review.pk).state


def _admin_import_payload():
    text = b"# Matrix import\n\n- The write matrix reaches the admin\n"
    return pack_upload(text, "matrix.md")


# --- reads ----------------------------------------------------------------------------------
# (kind, access, path(data, world-or-version)[, headers]). Access:
#   "public": anyone, signed in or not (the API's schema and its docs; DESIGN.md is silent).
#   "signed-in": any signed-in user; the body never shows another project (the canary).
#   "project": members of the object's project read it.
#   "project-lead": only the project's leads (other members 403).
#   "checklist": published versions for everyone signed in; drafts for curators only.
#   "admin…": the admin, which lets ``is_staff`` users in (everyone else is sent to its sign-in
#   page) and then: "admin" any of them; "admin-checklists" curators; "admin-list" (a list of
#   project data or site-wide records) only those with the model's permission (none here but
#   the superuser: 403); "admin-object" (an object of project B, none of them a member) 404 for
#   all but the superuser.
#   "curator": curators and superusers; everyone else signed in 403.

XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}

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
    "section fragment": (
        "page",
        "project",
        lambda d, w: f"/reviews/{w.review.pk}/sections/{w.section.pk}/",
        XHR,
    ),
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
    "api schema": ("page", "public", lambda d, o: "/api/schema/"),
    "api docs": ("page", "public", lambda d, o: "/api/docs/"),
    "admin index": ("page", "admin", lambda d, o: "/admin/"),
    "admin reviews": ("page", "admin-list", lambda d, o: "/admin/reviews/review/"),
    "admin projects": ("page", "admin-list", lambda d, o: "/admin/reviews/project/"),
    "admin memberships": ("page", "admin-list", lambda d, o: "/admin/reviews/membership/"),
    "admin webhooks": ("page", "admin-list", lambda d, o: "/admin/webhooks/webhook/"),
    "admin events": ("page", "admin-list", lambda d, o: "/admin/audit/event/"),
    "admin tokens": ("page", "admin-list", lambda d, o: "/admin/accounts/apitoken/"),
    "admin users": ("page", "admin-list", lambda d, o: "/admin/accounts/user/"),
    **{
        f"admin {name} of B": ("page", "admin-object", path)
        for name, path in {
            "project": lambda d, o: f"/admin/reviews/project/{d.b.project.pk}/change/",
            "spec": lambda d, o: f"/admin/reviews/spec/{d.b.spec.pk}/change/",
            "review": lambda d, o: f"/admin/reviews/review/{d.b.review.pk}/change/",
            "review history": lambda d, o: f"/admin/reviews/review/{d.b.review.pk}/history/",
            "finding": lambda d, o: f"/admin/reviews/finding/{d.b.finding.pk}/change/",
            "sign-off": lambda d, o: (
                f"/admin/reviews/signoff/{d.b.review.signoffs.first().pk}/change/"
            ),
            "membership": lambda d, o: (
                f"/admin/reviews/membership/{d.b.project.memberships.first().pk}/change/"
            ),
            "membership delete": lambda d, o: (
                f"/admin/reviews/membership/{d.b.project.memberships.first().pk}/delete/"
            ),
            "webhook": lambda d, o: f"/admin/webhooks/webhook/{d.b.hook.pk}/change/",
            "delivery": lambda d, o: f"/admin/webhooks/delivery/{d.b.delivery.pk}/change/",
            "event": lambda d, o: (
                f"/admin/audit/event/{Event.objects.filter(project_id=d.b.project.pk).first().pk}"
                "/change/"
            ),
        }.items()
    },
    "admin import": (
        "page",
        "admin-checklists",
        lambda d, o: "/admin/checklists/checklisttemplate/import/",
    ),
    "admin version": (
        "page",
        "admin-checklists",
        lambda d, o: f"/admin/checklists/templateversion/{d.draft.pk}/change/",
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
        lambda d, w: f"/api/v1/reviews/{w.review.pk}/responses/{w.first_item_id}/",
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
    return (
        ["-"]
        if access in ("public", "signed-in", "curator") or access.startswith("admin")
        else ["in", "out"]
    )


def admin_status(access: str, role: str) -> int:
    """The status an ``is_staff`` ``role`` gets on an admin page."""
    if access == "admin" or role == "superuser":
        return 200
    if access == "admin-checklists":
        return 200 if role in RULES["manage checklists"] else 403
    return {"admin-list": 403, "admin-object": 404}[access]


def expected_status(access: str, role: str, scope: str) -> int:
    """The status a signed-in ``role`` gets; 404 whenever the object is out of its reach."""
    if access in ("public", "signed-in") or role == "superuser":
        return 200
    if access == "curator":  # the library's import page: RULES["manage checklists"]
        return 200 if role in RULES["manage checklists"] else 403
    if access == "checklist":
        return 200 if scope == "in" or role in RULES["manage checklists"] else 404
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
    kind, access, path, *extra = READS[name]
    url = path(data, _target(data, access, scope))
    client = data.browser(role) if kind == "page" else data.api(role)
    response = client.get(url, **(extra[0] if extra else {}))
    status, location = response.status_code, response.get("Location", "")
    body = response.content.decode(errors="replace")
    if access.startswith("admin"):
        if role not in ADMIN_ROLES:
            if status != 302 or not location.startswith("/admin/login/?next="):
                return f"{url}: {status} {location}, expected the admin's sign-in page"
            return None
        if status != admin_status(access, role):
            return f"{url}: {status}, expected {admin_status(access, role)}"
        if role != "superuser" and CANARY in body:
            return f"{url}: shows another project's data"
        return None
    if role == "anonymous" and access != "public":
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
    if role != "superuser" and CANARY in body:
        return f"{url}: shows another project's data"
    return None


@pytest.mark.parametrize("name", list(READS))
def test_read_matrix(data, name):
    """One URL per test; every role × scope cell is checked and all wrong cells reported."""
    for world in (data.a, data.b):
        world.first_item_id = _first(world).item_id
    access = READS[name][1]
    wrong = {
        f"{role}|{scope}": problem
        for role in ROLES
        for scope in _scopes(access)
        if (problem := check_cell(data, name, role, scope))
    }
    assert not wrong


# --- browser writes -------------------------------------------------------------------------
# Every POST endpoint of reviews/urls.py, accounts/urls.py and the admin's checklist pages
# (checklists/urls.py: below). name: (rule, target, path(d, t), body(d, t), success status,
# proof(d, t, response), precondition(d, t) or None). ``target`` picks the object: the world
# in or out of the user's project, the user's own token or a stranger's, or the draft checklist.

WRITES = {
    "add member": (
        "manage members",
        world_of,
        lambda d, w: f"/projects/{w.project.slug}/members/",
        lambda d, w: {"email": w.outsider.email, "role": "viewer"},
        302,
        lambda d, w, r: Membership.objects.filter(project=w.project, user=w.outsider).exists(),
        None,
    ),
    "remove member": (
        "manage members",
        world_of,
        lambda d, w: f"/projects/{w.project.slug}/members/",
        lambda d, w: {"email": w.viewer.email, "remove": "1"},
        302,
        lambda d, w, r: not Membership.objects.filter(project=w.project, user=w.viewer).exists(),
        None,
    ),
    "project settings": (
        "change settings",
        world_of,
        lambda d, w: f"/projects/{w.project.slug}/settings/",
        lambda d, w: {"required_signoffs": "3", "important_findings_block": "on"},
        302,
        lambda d, w, r: Project.objects.get(pk=w.project.pk).required_signoffs == 3,
        None,
    ),
    "create spec": (
        "create spec",
        world_of,
        lambda d, w: f"/projects/{w.project.slug}/specs/",
        lambda d, w: {"title": "Matrix spec", "revision_label": "r1"},
        302,
        lambda d, w, r: Spec.objects.filter(project=w.project, title="Matrix spec").exists(),
        None,
    ),
    "post revision": (
        "post revision",
        world_of,
        lambda d, w: f"/specs/{w.spec.pk}/revisions/",
        lambda d, w: {"label": "r2", "note": "second pass"},
        302,
        lambda d, w, r: w.spec.revisions.filter(label="r2").exists(),
        None,
    ),
    "create review": (
        "create review",
        world_of,
        lambda d, w: f"/specs/{w.spec.pk}/reviews/",
        lambda d, w: {"template_versions": [w.version.pk], "reviewers": [w.reviewer.email]},
        302,
        lambda d, w, r: w.spec.reviews.count() == 2,
        None,
    ),
    "answer": (
        "answer",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/items/{_first(w).item_id}/",
        lambda d, w: {"verdict": "fail", "note": "Not written down", "version": _first(w).version},
        302,
        lambda d, w, r: _first(w).verdict == "fail",
        None,
    ),
    "submit": (
        "submit",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/actions/submit/",
        lambda d, w: {"comment": "again"},
        302,
        lambda d, w, r: _review_state(w) == "in_review",
        _set_state("changes_requested"),
    ),
    "sign off": (
        "sign off",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/actions/signoff/",
        lambda d, w: {"comment": "reviewed"},
        302,
        lambda d, w, r: w.review.signoffs.filter(comment="reviewed").exists(),
        None,
    ),
    "request changes": (
        "request changes",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/actions/request_changes/",
        lambda d, w: {"comment": "fix it"},
        302,
        lambda d, w, r: _review_state(w) == "changes_requested",
        None,
    ),
    "approve": (
        "approve",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/actions/approve/",
        lambda d, w: {"comment": "ship it"},
        302,
        lambda d, w, r: _review_state(w) == "approved",
        None,
    ),
    "override": (
        "override",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/actions/override/",
        lambda d, w: {"rule": "signoffs", "justification": "agreed in the meeting"},
        302,
        lambda d, w, r: w.review.overrides.filter(rule="signoffs").exists(),
        None,
    ),
    "reopen": (
        "reopen",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/actions/reopen/",
        lambda d, w: {"reason": "regression found"},
        302,
        lambda d, w, r: _review_state(w) == "in_review",
        _set_state("approved"),
    ),
    "withdraw": (
        "withdraw",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/actions/withdraw/",
        lambda d, w: {"reason": "obsolete"},
        302,
        lambda d, w, r: _review_state(w) == "withdrawn",
        None,
    ),
    "assign reviewer": (
        "assign reviewers",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/reviewers/",
        lambda d, w: {"email": w.reviewer2.email},
        302,
        lambda d, w, r: w.review.assignments.filter(user=w.reviewer2).exists(),
        None,
    ),
    "unassign reviewer": (
        "assign reviewers",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/reviewers/",
        lambda d, w: {"email": w.reviewer.email, "remove": "1"},
        302,
        lambda d, w, r: not w.review.assignments.filter(user=w.reviewer).exists(),
        None,
    ),
    "raise finding": (
        "raise finding",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/findings/",
        lambda d, w: {"severity": "important", "title": "Retry storms"},
        302,
        lambda d, w, r: w.review.findings.filter(title="Retry storms").exists(),
        None,
    ),
    "resolve finding": (
        "resolve finding",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/findings/{w.finding.pk}/resolve/",
        lambda d, w: {"status": "resolved", "note": "named it"},
        302,
        lambda d, w, r: Finding.objects.get(pk=w.finding.pk).status == "resolved",
        None,
    ),
    "reopen finding": (
        "reopen finding",
        world_of,
        lambda d, w: f"/reviews/{w.review.pk}/findings/{w.finding.pk}/reopen/",
        lambda d, w: {"note": "not really"},
        302,
        lambda d, w, r: Finding.objects.get(pk=w.finding.pk).status == "open",
        _resolved,
    ),
    "create token": (
        "own tokens",
        None,
        lambda d, t: "/tokens/",
        lambda d, t: {"name": "matrix token", "expires_in_days": "30"},
        302,  # to the tokens page, which shows the new token once
        lambda d, t, r: ApiToken.objects.filter(name="matrix token").exists(),
        None,
    ),
    "revoke token": (
        "own tokens",
        token_of,
        lambda d, t: f"/tokens/{t.pk}/revoke/",
        lambda d, t: {},
        302,
        lambda d, t, r: ApiToken.objects.get(pk=t.pk).revoked_at is not None,
        None,
    ),
    "admin import upload": (
        "manage checklists",
        None,
        lambda d, t: "/admin/checklists/checklisttemplate/import/",
        lambda d, t: {"slug": "matrix-admin", "file": _upload()},
        200,
        lambda d, t, r: b"matrix-admin" in r.content and b"<title>Preview:" in r.content,
        None,
    ),
    "admin import confirm": (
        "manage checklists",
        None,
        lambda d, t: "/admin/checklists/checklisttemplate/import/",
        lambda d, t: {
            "step": "confirm",
            "payload": _admin_import_payload(),
            "slug": "matrix-admin",
        },
        302,
        lambda d, t, r: ChecklistTemplate.objects.filter(slug="matrix-admin").exists(),
        None,
    ),
    "admin publish": (
        "manage checklists",
        lambda d, role, scope: d.draft,
        lambda d, v: f"/admin/checklists/templateversion/{v.pk}/publish/",
        lambda d, v: {"changelog": "first"},
        302,
        lambda d, v, r: TemplateVersion.objects.get(pk=v.pk).status == "published",
        None,
    ),
    "admin retire": (
        "manage checklists",
        lambda d, role, scope: d.published,
        lambda d, v: f"/admin/checklists/templateversion/{v.pk}/retire/",
        lambda d, v: {},
        302,
        lambda d, v, r: TemplateVersion.objects.get(pk=v.pk).status == "retired",
        None,
    ),
    "admin new draft": (
        "manage checklists",
        lambda d, role, scope: d.published,
        lambda d, v: f"/admin/checklists/templateversion/{v.pk}/new-draft/",
        lambda d, v: {},
        302,
        lambda d, v, r: v.template.versions.filter(status="draft").exists(),
        None,
    ),
}

# --- the checklist library's own import and publish (checklists/urls.py): curators only ----
# The preview writes nothing; the confirmation imports (and publishes) through
# checklist_import, like the admin's; a draft is published from its page.
WRITES.update(
    {
        "library import preview": (
            "manage checklists",
            None,
            lambda d, t: "/checklists/import/",
            lambda d, t: {"slug": "matrix-library", "file": _upload()},
            200,
            lambda d, t, r: (
                b"Nothing has been saved yet" in r.content
                and b"matrix-library" in r.content
                and not ChecklistTemplate.objects.filter(slug="matrix-library").exists()
            ),
            None,
        ),
        "library import confirm": (
            "manage checklists",
            None,
            lambda d, t: "/checklists/import/confirm/",
            lambda d, t: {
                "payload": _admin_import_payload(),
                "slug": "matrix-library",
                "previewed_slug": "matrix-library",
                "action": "publish",
            },
            302,
            lambda d, t, r: TemplateVersion.objects.filter(
                template__slug="matrix-library", status="published"
            ).exists(),
            None,
        ),
        "library publish": (
            "manage checklists",
            lambda d, role, scope: d.draft,
            lambda d, v: f"/checklists/{v.template.slug}/v{v.number}/publish/",
            lambda d, v: {"changelog": "first"},
            302,
            lambda d, v, r: TemplateVersion.objects.get(pk=v.pk).status == "published",
            None,
        ),
    }
)
READS["checklist import"] = ("page", "curator", lambda d, o: "/checklists/import/")
# --- end of the checklist library's import block ---------------------------------------------

ADMIN_WRITES = {name for name in WRITES if name.startswith("admin ")}


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "matrix.md", b"# Matrix import\n\n- The write matrix reaches the admin\n", "text/markdown"
    )


def _cells(ops: dict) -> list:
    """(name, role, scope) for every op; site-wide ops (no target, or a fixed one) have one
    scope, "-"."""
    cells = []
    for name, spec in ops.items():
        target = spec[1]
        scopes = ("in", "out") if target in (world_of, token_of) else ("-",)
        cells += [
            pytest.param(name, role, scope, id=f"{name}|{role}|{scope}")
            for role in ROLES
            for scope in scopes
        ]
    return cells


def resolve_target(data, target, role, scope):
    return target(data, role, scope) if target else None


@pytest.mark.parametrize("name,role,scope", _cells(WRITES))
def test_browser_write_matrix(data, django_assert_max_num_queries, name, role, scope):
    rule, target, path, body, ok_status, happened, prepare = WRITES[name]
    obj = resolve_target(data, target, role, scope)
    if prepare:
        with django_assert_max_num_queries(1):  # a cell's setup is one UPDATE, no more
            prepare(data, obj)
    before = snapshot()
    response = data.browser(role).post(path(data, obj), body(data, obj))
    status, location = response.status_code, response.get("Location", "")
    expected = outcome(rule, role, scope)
    if name in ADMIN_WRITES and role not in ADMIN_ROLES:
        # The admin admits ``is_staff`` users only (the plain curator uses the API).
        assert status == 302 and location.startswith("/admin/login/?next="), (status, location)
    elif expected == "login":
        assert status == 302 and location.startswith("/accounts/login/?next="), (status, location)
    elif expected == "ok":
        assert status == ok_status, (status, location, response.content[:300])
        if status == 302:
            assert not location.startswith(("/accounts/login/", "/admin/login/")), location
        assert happened(data, obj, response), f"{role} could not {name}"
        return
    else:
        assert status == {"forbidden": 403, "hidden": 404}[expected], (status, location)
    assert snapshot() == before, f"a refused {name} changed something"


@pytest.mark.parametrize(
    "who,name,status",
    [
        ("staff", "admin import confirm", 403),
        ("staff", "admin publish", 403),
        ("staff curator", "admin import confirm", 302),
        ("staff curator", "admin publish", 302),
    ],
)
def test_admin_checklist_writes_need_a_curator(data, client, who, name, status):
    """The admin admits staff; of them, only curators write checklists (RULES)."""
    user = UserFactory(is_staff=True, curator=who == "staff curator")
    client.force_login(user)
    rule, target, path, body, ok_status, happened, _ = WRITES[name]
    obj = resolve_target(data, target, who, "-")
    before = snapshot()
    response = client.post(path(data, obj), body(data, obj))
    assert response.status_code == status
    if status == 403:
        assert snapshot() == before
    else:
        assert not response["Location"].startswith("/admin/login/")
        assert happened(data, obj, response)


def test_a_lead_without_the_override_permission_cannot_override(data):
    """DESIGN.md: only a lead *with the override permission* grants an override (lead2 has
    none)."""
    world = data.a
    from django.test import Client

    from tests.accounts.factories import record_reauthentication

    client = Client()
    client.force_login(world.lead2)
    record_reauthentication(client, world.lead2)
    before = snapshot()
    response = client.post(
        f"/reviews/{world.review.pk}/actions/override/",
        {"rule": "signoffs", "justification": "agreed"},
    )
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("face", ["browser", "api"])
@pytest.mark.parametrize("who", ["staff", "staff curator"])
def test_staff_and_curators_cannot_make_themselves_lead_of_a_project(data, face, who):
    """Issue 13: a curator (``is_staff`` to reach the admin) listed the members of a project they
    were not in and made themself its lead. Not a member → 404, in the browser and the API."""
    world, user = data.a, data.users[who]
    before = snapshot()
    if face == "api":
        client = data.api(who)
        listing = client.get(f"/api/v1/projects/{world.project.slug}/members/")
        response = client.post(
            f"/api/v1/projects/{world.project.slug}/members/",
            {"user": user.email, "role": "lead"},
            format="json",
        )
    else:
        client = data.browser(who)
        listing = client.get(f"/projects/{world.project.slug}/")
        response = client.post(
            f"/projects/{world.project.slug}/members/", {"email": user.email, "role": "lead"}
        )
    assert (listing.status_code, response.status_code) == (404, 404)
    assert not Membership.objects.filter(project=world.project, user=user).exists()
    assert snapshot() == before


# --- fields nobody sets ---------------------------------------------------------------------


def test_browser_answer_ignores_answered_by_and_state(data):
    world = data.a
    response = _first(world)
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
    assert _first(data.b).answered_by_id == data.b.reviewer2.pk


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
    response = _first(world)
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
    # The decision is the reviewer's own to make (approve or request changes); who, the role,
    # the staleness and the digest are not.
    assert (signoff.role, signoff.decision, signoff.stale) == ("reviewer", "request_changes", False)
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
