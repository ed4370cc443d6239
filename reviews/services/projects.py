"""Projects, memberships and project settings."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.services import record_event
from config.errors import Conflict, Forbidden, InvalidInput, NotFound
from reviews.models import Membership, Project, Role
from reviews.permissions import (
    can_change_project_settings,
    can_create_project,
    can_manage_members,
    forget_roles,
    require,
)


def _project_event(actor, project: Project, verb: str, obj=None, before=None, after=None):
    target = obj or project
    return record_event(
        actor=actor,
        verb=verb,
        object_type=target._meta.model_name,
        object_id=target.pk,
        object_repr=str(target),
        project_id=project.pk,
        before=before,
        after=after,
    )


def _lock_project(project: Project) -> None:
    """Lock the project row: memberships and settings change one at a time, before the audit
    chain is locked (the lock order of reviews.services). ``no_key``: the project's key does
    not change, so rows that point at it (specs, reviews) may still be inserted meanwhile."""
    Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()


def _clean(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise InvalidInput("Invalid input.", details=exc.message_dict) from exc


@transaction.atomic
def project_create(*, actor, slug: str, name: str, description: str = "") -> Project:
    if not can_create_project(actor):
        raise Forbidden("Only site administrators create projects.")
    project = Project(slug=(slug or "").strip(), name=(name or "").strip(), description=description)
    _clean(project)
    project.save()
    _project_event(
        actor, project, "project.created", after={"slug": project.slug, "name": project.name}
    )
    return project


def _find_user(email: str):
    User = get_user_model()
    try:
        return User.objects.get(email__iexact=(email or "").strip(), is_active=True)
    except User.DoesNotExist:
        raise InvalidInput(
            f"No active user with e-mail {email!r}.", details={"user": ["Unknown user."]}
        ) from None


def _lead_count(project: Project) -> int:
    return project.memberships.filter(role=Role.LEAD).count()


def _require_member_manager(actor, project: Project) -> None:
    """404 unless the actor sees the project (a site administrator sees every one), 403 for a
    member who is not a lead."""
    require(
        can_manage_members(actor, project),
        actor,
        project.pk,
        "Only the project's leads (and site administrators) manage its members.",
        "project",
    )


@transaction.atomic
def membership_set(
    *, actor, project: Project, email: str, role: str, can_override: bool = False
) -> tuple[Membership, bool]:
    """Add a member or change their role. Returns (membership, created)."""
    _require_member_manager(actor, project)
    if role not in Role.values:
        raise InvalidInput(
            f"Unknown role {role!r}; use one of {', '.join(Role.values)}.",
            details={"role": [f"Choose one of {', '.join(Role.values)}."]},
        )
    if can_override and role != Role.LEAD:
        raise InvalidInput(
            "Only leads can hold the override permission.",
            details={"can_override": ["Only for leads."]},
        )
    user = _find_user(email)
    _lock_project(project)
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    project=project, user=user, role=role, can_override=can_override
                )
        except IntegrityError:
            raise Conflict(f"{user.email} is already a member.") from None
        _project_event(
            actor,
            project,
            "membership.added",
            membership,
            after={"user": user.email, "role": role, "can_override": can_override},
        )
        forget_roles(user)
        return membership, True
    before = {"user": user.email, "role": membership.role, "can_override": membership.can_override}
    if membership.role == role and membership.can_override == can_override:
        return membership, False
    if membership.role == Role.LEAD and role != Role.LEAD and _lead_count(project) == 1:
        raise Conflict("A project needs at least one lead: add another lead first.")
    membership.role = role
    membership.can_override = can_override
    membership.save(update_fields=["role", "can_override"])
    _project_event(
        actor,
        project,
        "membership.changed",
        membership,
        before=before,
        after={"user": user.email, "role": role, "can_override": can_override},
    )
    forget_roles(user)
    return membership, False


@transaction.atomic
def membership_remove(*, actor, project: Project, email: str) -> None:
    _require_member_manager(actor, project)
    user = _find_user(email)
    _lock_project(project)
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        raise NotFound(f"{user.email} is not a member of {project.slug}.")
    if membership.role == Role.LEAD and _lead_count(project) == 1:
        raise Conflict("A project needs at least one lead: add another lead first.")
    membership_id = membership.pk
    membership.delete()  # rows first, the audit chain last (the lock order)
    membership.pk = membership_id
    _project_event(
        actor,
        project,
        "membership.removed",
        membership,
        before={"user": user.email, "role": membership.role},
    )
    forget_roles(user)


@transaction.atomic
def project_settings_update(
    *,
    actor,
    project: Project,
    required_signoffs: int | None = None,
    important_findings_block: bool | None = None,
    name: str | None = None,
    description: str | None = None,
) -> Project:
    """Leads change the project's name, description and gate settings; each change is
    versioned as an event."""
    require(
        can_change_project_settings(actor, project),
        actor,
        project.pk,
        "Only the project's leads change its settings.",
        "project",
    )
    _lock_project(project)
    project = Project.objects.get(pk=project.pk)
    fields = ["name", "description", "required_signoffs", "important_findings_block"]
    before = {field: getattr(project, field) for field in fields}
    if required_signoffs is not None:
        if not isinstance(required_signoffs, int) or not 1 <= required_signoffs <= 20:
            raise InvalidInput(
                "required_signoffs must be a whole number from 1 to 20.",
                details={"required_signoffs": ["From 1 to 20."]},
            )
        project.required_signoffs = required_signoffs
    if important_findings_block is not None:
        project.important_findings_block = bool(important_findings_block)
    if name is not None:
        project.name = name.strip()
    if description is not None:
        project.description = description
    _clean(project)
    after = {field: getattr(project, field) for field in fields}
    changed = [field for field in fields if after[field] != before[field]]
    if not changed:
        return project
    project.save(update_fields=changed)
    _project_event(actor, project, "project.settings_changed", before=before, after=after)
    return project
