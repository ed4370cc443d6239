"""The one permission module for projects, specs and reviews.

Two faces: predicates (``can_answer(user, review)``) and visible querysets
(``reviews_visible_to(user)``). The browser, the admin and the API call the same ones.
Not a member → the object is not found (404); a member without the right → forbidden (403).

Site-wide, only the site administrator (``is_superuser``) has power over projects: they create
projects and may staff and see any of them. ``is_staff`` only opens the Django admin, and a
curator (``accounts.permissions.is_curator``) manages checklist templates and nothing else:
neither flag is asked anywhere in this module.
"""

from django.db.models import QuerySet

from config.errors import Forbidden, NotFound
from reviews.models import Finding, Membership, Project, Review, Role, Spec

RANK = {Role.VIEWER: 0, Role.AUTHOR: 1, Role.REVIEWER: 1, Role.LEAD: 2}


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def role_in(user, project_id: int) -> str | None:
    """The user's role in the project (cached on the user object for the request)."""
    if not _active(user):
        return None
    return _memberships(user)[0].get(project_id)


def _memberships(user) -> tuple[dict[int, str], set[int]]:
    """(role per project, projects where the user is a lead who may override), read once per
    user object (that is, per request)."""
    roles = getattr(user, "_specgate_roles", None)
    overriders = getattr(user, "_specgate_overriders", None)
    if roles is None or overriders is None:
        roles, overriders = {}, set()
        for project_id, role, can_override in Membership.objects.filter(user=user).values_list(
            "project_id", "role", "can_override"
        ):
            roles[project_id] = role
            if role == Role.LEAD and can_override:
                overriders.add(project_id)
        user._specgate_roles = roles
        user._specgate_overriders = overriders
    return roles, overriders


def forget_roles(user) -> None:
    for name in ("_specgate_roles", "_specgate_overriders"):
        if hasattr(user, name):
            delattr(user, name)


def _override_allowed(user, project_id: int) -> bool:
    if user.is_superuser:
        return True
    if not _active(user):
        return False
    return project_id in _memberships(user)[1]


# --- visible querysets -------------------------------------------------------------------


def projects_visible_to(user) -> QuerySet[Project]:
    if not _active(user):
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def specs_visible_to(user) -> QuerySet[Spec]:
    if not _active(user):
        return Spec.objects.none()
    if user.is_superuser:
        return Spec.objects.all()
    return Spec.objects.filter(project__memberships__user=user)


def reviews_visible_to(user) -> QuerySet[Review]:
    if not _active(user):
        return Review.objects.none()
    if user.is_superuser:
        return Review.objects.all()
    return Review.objects.filter(spec__project__memberships__user=user)


def findings_visible_to(user) -> QuerySet[Finding]:
    if not _active(user):
        return Finding.objects.none()
    if user.is_superuser:
        return Finding.objects.all()
    return Finding.objects.filter(review__spec__project__memberships__user=user)


def reviews_led_by(user, reviews: QuerySet[Review]) -> QuerySet[Review]:
    """The reviews of ``reviews`` in projects ``user`` leads (any, for a site administrator):
    :func:`can_lead` as a queryset."""
    if not _active(user):
        return reviews.none()
    if user.is_superuser:
        return reviews
    led = Membership.objects.filter(user=user, role=Role.LEAD).values("project_id")
    return reviews.filter(spec__project_id__in=led)


def in_visible_projects(queryset: QuerySet, user, project_path: str) -> QuerySet:
    """The rows of ``queryset`` whose project (reached by ``project_path``, e.g.
    ``"review__spec__project"``) ``user`` may see: for the admin's lists of any project data."""
    if not _active(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    visible = Membership.objects.filter(user=user).values("project_id")
    return queryset.filter(**{f"{project_path}__in": visible})


# --- predicates ----------------------------------------------------------------------------


def _has_role(user, project_id: int, *roles: str) -> bool:
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return role_in(user, project_id) in roles


def can_view_project(user, project: Project) -> bool:
    return _active(user) and (user.is_superuser or role_in(user, project.pk) is not None)


def can_create_project(user) -> bool:
    """Site administrators create projects (not staff, not curators)."""
    return _active(user) and user.is_superuser


def can_manage_members(user, project: Project) -> bool:
    """A project's leads manage its members; site administrators staff any project."""
    return _has_role(user, project.pk, Role.LEAD)


def can_change_project_settings(user, project: Project) -> bool:
    return _has_role(user, project.pk, Role.LEAD)


def can_create_spec(user, project: Project) -> bool:
    return _has_role(user, project.pk, Role.AUTHOR, Role.LEAD)


def can_post_revision(user, spec: Spec) -> bool:
    if _has_role(user, spec.project_id, Role.LEAD):
        return True
    return _has_role(user, spec.project_id, Role.AUTHOR) and spec.author_id == user.pk


def can_create_review(user, spec: Spec) -> bool:
    return _has_role(user, spec.project_id, Role.AUTHOR, Role.LEAD)


def _review_project_id(review: Review) -> int:
    return review.spec.project_id


def can_submit(user, review: Review) -> bool:
    if _has_role(user, _review_project_id(review), Role.LEAD):
        return True
    return _has_role(user, _review_project_id(review), Role.AUTHOR) and user.pk in (
        review.created_by_id,
        review.spec.author_id,
    )


can_withdraw = can_submit


def can_answer(user, review: Review) -> bool:
    return _has_role(user, _review_project_id(review), Role.REVIEWER, Role.LEAD)


def can_raise_finding(user, review: Review) -> bool:
    return _has_role(user, _review_project_id(review), Role.REVIEWER, Role.LEAD)


def can_resolve_finding(user, finding: Finding) -> bool:
    review = finding.review
    project_id = _review_project_id(review)
    if _has_role(user, project_id, Role.LEAD):
        return True
    # Authors resolve findings on their specs (DESIGN.md); reviewers raise them, not close them.
    return _has_role(user, project_id, Role.AUTHOR) and review.spec.author_id == user.pk


def can_sign_off(user, review: Review) -> bool:
    return _has_role(user, _review_project_id(review), Role.REVIEWER, Role.LEAD)


def can_lead(user, review: Review) -> bool:
    """Assign reviewers, request changes, approve, reopen, migrate templates."""
    return _has_role(user, _review_project_id(review), Role.LEAD)


can_approve = can_lead
can_request_changes = can_lead
can_reopen = can_lead
can_assign = can_lead
can_migrate = can_lead


def can_override(user, review: Review) -> bool:
    return can_lead(user, review) and _override_allowed(user, _review_project_id(review))


# --- enforcement ---------------------------------------------------------------------------


def require_visible(user, project_id: int, what: str = "object") -> None:
    if not _active(user) or not (user.is_superuser or role_in(user, project_id) is not None):
        raise NotFound(f"No such {what}.")


def require(allowed: bool, user, project_id: int, message: str, what: str = "object") -> None:
    """404 for someone who cannot see the project, 403 for a member without the right."""
    require_visible(user, project_id, what)
    if not allowed:
        raise Forbidden(message)
