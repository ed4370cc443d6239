"""Helpers shared by the browser views: visibility (404 / 403) and domain errors."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404

from config.errors import DomainError, Forbidden, NotFound
from reviews.models import Project, Review, Spec
from reviews.permissions import require_visible


def domain_errors(view):
    """NotFound → 404 and Forbidden → 403 pages; other domain errors are the view's to show."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc

    return wrapper


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def flash_error(request, exc: DomainError) -> None:
    text = exc.message
    details = exc.details if isinstance(exc.details, dict) else {}
    reasons = details.get("reasons") or []
    extra = [r for r in reasons if r not in text]
    if extra:
        text += " " + " ".join(extra)
    messages.error(request, text)


def flash_refusal(request, exc: DomainError) -> None:
    """Show a refusal as a message on the next page; Forbidden and NotFound still answer
    403 / 404 (through ``domain_errors``)."""
    if isinstance(exc, (Forbidden, NotFound)):
        raise exc
    flash_error(request, exc)


def get_project(user, slug: str) -> Project:
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise NotFound("No such project.")
    require_visible(user, project.pk, "project")
    return project


def get_spec(user, pk: int) -> Spec:
    spec = Spec.objects.select_related("project", "author").filter(pk=pk).first()
    if spec is None:
        raise NotFound("No such spec.")
    require_visible(user, spec.project_id, "spec")
    return spec


def get_review(user, pk: int) -> Review:
    review = (
        Review.objects.select_related("spec__project", "spec__author", "created_by")
        .filter(pk=pk)
        .first()
    )
    if review is None:
        raise NotFound("No such review.")
    require_visible(user, review.spec.project_id, "review")
    return review
