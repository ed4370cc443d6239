"""Dashboard, projects, specs and insights."""

import statistics

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST

from audit.cache import cached_read
from config.errors import DomainError, Forbidden
from reviews import permissions as perms
from reviews import services
from reviews.forms import (
    MemberForm,
    ProjectSettingsForm,
    RemoveMemberForm,
    ReviewCreateForm,
    RevisionForm,
    SpecForm,
)
from reviews.models import Membership, Project, Review, ReviewState, Role
from reviews.selectors import dashboard as dashboard_data
from reviews.selectors import failing_items, progress_for_reviews
from reviews.views._common import (
    domain_errors,
    flash_refusal,
    get_project,
    get_spec,
)


@login_required
def dashboard(request):
    user = request.user

    def build() -> str:
        data = dashboard_data(user)
        progress = data["progress"]
        for group in ("todo", "waiting", "to_approve"):
            for review in data[group]:
                review.progress = progress.get(review.pk)
        return render_to_string("reviews/_dashboard_board.html", {**data, "user": user})

    key = ("dashboard", get_language(), timezone.get_current_timezone_name())
    board = mark_safe(cached_read(user, key, build))  # noqa: S308 - rendered by our template
    return render(request, "reviews/dashboard.html", {"board": board})


@login_required
def project_list(request):
    projects = (
        perms.projects_visible_to(request.user)
        .annotate(n_specs=Count("specs", distinct=True))
        .order_by("name")
        .distinct()
    )
    roles = dict(Membership.objects.filter(user=request.user).values_list("project_id", "role"))
    rows = [(p, roles.get(p.pk)) for p in projects]
    return render(request, "reviews/project_list.html", {"rows": rows})


def _project_context(request, project, **forms):
    user = request.user
    specs = list(project.specs.select_related("author").order_by("-created_at"))
    reviews = list(
        Review.objects.filter(spec__project=project)
        .select_related("spec")
        .order_by("-created_at")[:200]
    )
    progress = progress_for_reviews(reviews)
    by_state = []
    for state, label in ReviewState.choices:
        rows = [r for r in reviews if r.state == state]
        for r in rows:
            r.progress = progress.get(r.pk)
        by_state.append({"state": state, "label": label, "reviews": rows})
    members = list(project.memberships.select_related("user").order_by("role", "user__email"))
    can_manage = perms.can_manage_members(user, project)
    return {
        "project": project,
        "specs": specs,
        "by_state": by_state,
        "members": members,
        "role": perms.role_in(user, project.pk),
        "can_manage": can_manage,
        "can_settings": perms.can_change_project_settings(user, project),
        "can_create_spec": perms.can_create_spec(user, project),
        "member_form": forms.get("member_form") or MemberForm(),
        "settings_form": forms.get("settings_form")
        or ProjectSettingsForm(
            initial={
                "required_signoffs": project.required_signoffs,
                "important_findings_block": project.important_findings_block,
            }
        ),
        "spec_form": forms.get("spec_form") or SpecForm(),
        "roles": Role.choices,
    }


@login_required
@domain_errors
def project_detail(request, slug: str):
    project = get_project(request.user, slug)
    return render(request, "reviews/project.html", _project_context(request, project))


@login_required
@domain_errors
@require_POST
def project_members(request, slug: str):
    project = Project.objects.filter(slug=slug).first()
    if project is None or not perms.can_manage_members(request.user, project):
        get_project(request.user, slug)  # 404 unless a member, and a member without the right:
        raise Forbidden("Only the project's leads manage its members.")

    def back():
        perms.forget_roles(request.user)
        if not perms.can_view_project(request.user, project):  # a lead who left the project
            return redirect("reviews:projects")
        return redirect(reverse("reviews:project", args=[project.slug]) + "#members")

    remove = request.POST.get("remove") == "1"
    form = RemoveMemberForm(request.POST) if remove else MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the member form: " + form.errors.as_text())
        return back()
    data = form.cleaned_data
    try:
        if remove:
            services.membership_remove(actor=request.user, project=project, email=data["email"])
            messages.success(request, f"Removed {data['email']}.")
        else:
            _, created = services.membership_set(
                actor=request.user,
                project=project,
                email=data["email"],
                role=data["role"],
                can_override=data["can_override"],
            )
            messages.success(request, f"{'Added' if created else 'Updated'} {data['email']}.")
    except DomainError as exc:
        flash_refusal(request, exc)
    return back()


@login_required
@domain_errors
@require_POST
def project_settings(request, slug: str):
    project = get_project(request.user, slug)
    form = ProjectSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the settings: " + form.errors.as_text())
        return redirect("reviews:project", slug=project.slug)
    try:
        services.project_settings_update(
            actor=request.user,
            project=project,
            required_signoffs=form.cleaned_data["required_signoffs"],
            important_findings_block=form.cleaned_data["important_findings_block"],
        )
        messages.success(request, "Settings saved.")
    except DomainError as exc:
        flash_refusal(request, exc)
    return redirect(reverse("reviews:project", args=[project.slug]) + "#settings")


@login_required
@domain_errors
@require_POST
def spec_create(request, slug: str):
    project = get_project(request.user, slug)
    form = SpecForm(request.POST)
    if form.is_valid():
        try:
            spec = services.spec_create(actor=request.user, project=project, **form.cleaned_data)
        except DomainError as exc:
            flash_refusal(request, exc)
        else:
            messages.success(request, "Spec created.")
            return redirect("reviews:spec", pk=spec.pk)
    elif not perms.can_create_spec(request.user, project):
        raise Forbidden("Only authors and leads create specs in this project.")
    context = _project_context(request, project, spec_form=form)
    return render(request, "reviews/project.html", context, status=400)


def _reviewer_emails(project):
    return list(
        project.memberships.filter(role__in=[Role.REVIEWER, Role.LEAD])
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )


def _spec_context(request, spec, **forms):
    user = request.user
    reviews = list(spec.reviews.select_related("created_by").order_by("-created_at"))
    progress = progress_for_reviews(reviews)
    for r in reviews:
        r.progress = progress.get(r.pk)
    return {
        "spec": spec,
        "project": spec.project,
        "revisions": list(spec.revisions.select_related("posted_by").order_by("-number")),
        "reviews": reviews,
        "can_post_revision": perms.can_post_revision(user, spec),
        "can_create_review": perms.can_create_review(user, spec),
        "revision_form": forms.get("revision_form") or RevisionForm(initial={"link": spec.link}),
        "review_form": forms.get("review_form")
        or ReviewCreateForm(reviewer_emails=_reviewer_emails(spec.project)),
    }


@login_required
@domain_errors
@require_http_methods(["GET", "HEAD"])
def spec_detail(request, pk: int):
    spec = get_spec(request.user, pk)
    return render(request, "reviews/spec.html", _spec_context(request, spec))


@login_required
@domain_errors
@require_POST
def spec_revision(request, pk: int):
    spec = get_spec(request.user, pk)
    form = RevisionForm(request.POST)
    if form.is_valid():
        try:
            _, created = services.spec_post_revision(
                actor=request.user, spec=spec, **form.cleaned_data
            )
        except DomainError as exc:
            flash_refusal(request, exc)
        else:
            messages.success(
                request, "Revision posted." if created else "That revision is already current."
            )
            return redirect("reviews:spec", pk=spec.pk)
    elif not perms.can_post_revision(request.user, spec):
        raise Forbidden("Only the spec's author or a lead posts revisions.")
    return render(
        request, "reviews/spec.html", _spec_context(request, spec, revision_form=form), status=400
    )


@login_required
@domain_errors
@require_POST
def review_create(request, pk: int):
    spec = get_spec(request.user, pk)
    form = ReviewCreateForm(request.POST, reviewer_emails=_reviewer_emails(spec.project))
    if not perms.can_create_review(request.user, spec):
        raise Forbidden("Only authors and leads create reviews in this project.")
    if form.is_valid():
        try:
            review = services.review_create(
                actor=request.user,
                spec=spec,
                template_version_ids=[v.pk for v in form.cleaned_data["template_versions"]],
                reviewers=form.cleaned_data["reviewers"],
                due_date=form.cleaned_data["due_date"],
            )
        except DomainError as exc:
            flash_refusal(request, exc)
        else:
            messages.success(request, f"Review #{review.pk} created (draft).")
            return redirect("reviews:review", pk=review.pk)
    return render(
        request, "reviews/spec.html", _spec_context(request, spec, review_form=form), status=400
    )


# --- insights ------------------------------------------------------------------------------


@login_required
def insights(request):
    user = request.user
    project_ids = (
        None if user.is_superuser else list(user.memberships.values_list("project_id", flat=True))
    )
    rows = failing_items(limit=15, project_ids=project_ids)
    top = max((r["fails"] for r in rows), default=0)
    for row in rows:
        # Width classes in steps of 5% (CSP forbids style attributes).
        row["width"] = int(round(20 * row["fails"] / top)) * 5 if top else 0
    approved = perms.reviews_visible_to(user).filter(
        approved_at__isnull=False, submitted_at__isnull=False
    )
    hours = [
        (a - s).total_seconds() / 3600
        for _, s, a in approved.values_list("pk", "submitted_at", "approved_at").distinct()
    ]
    median_hours = statistics.median(hours) if hours else None
    return render(
        request,
        "reviews/insights.html",
        {"rows": rows, "median_hours": median_hours, "approved_count": len(hours)},
    )
