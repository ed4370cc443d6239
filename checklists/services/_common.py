"""Shared steps of the checklist services: permission, locking, guards, audit, validation."""

from django.core.exceptions import ValidationError

from accounts.permissions import is_curator
from audit.services import record_event
from checklists.models import TemplateVersion, VersionStatus
from config.errors import Conflict, Forbidden, InvalidInput


def require_curator(actor, action: str) -> None:
    if not is_curator(actor):
        raise Forbidden(f"Only checklist curators can {action}.", code="not_curator")


def lock_version(version: TemplateVersion) -> TemplateVersion:
    """Re-read the version's row under a lock (its status may have changed meanwhile)."""
    version.refresh_from_db(from_queryset=TemplateVersion.objects.select_for_update())
    return version


def require_draft(version: TemplateVersion, action: str) -> None:
    if version.status != VersionStatus.DRAFT:
        raise Conflict(
            f"Version {version.number} of '{version.template.slug}' is {version.status}; "
            f"only a draft can {action}. Create a new draft to make changes.",
            code="not_draft",
            details={"status": version.status},
        )


def version_repr(version: TemplateVersion) -> dict:
    return {
        "slug": version.template.slug,
        "number": version.number,
        "status": version.status,
        "content_hash": version.content_hash,
    }


def record(actor, verb: str, version: TemplateVersion, before=None, after=None):
    return record_event(
        actor=actor,
        verb=verb,
        object_type="template_version",
        object_id=version.pk,
        object_repr=str(version),
        before=before,
        after=after,
    )


def clean(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        details = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        first = next(iter(details.values()))[0] if details else "invalid"
        raise InvalidInput(f"Invalid input — {first}", details=details) from exc
