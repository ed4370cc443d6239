"""The review page: sections and items, answers (with and without JavaScript), findings,
sign-offs, the gate panel, actions and the timeline."""

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import resolve, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from accounts.reauth import recent_authentication_required
from config.errors import Conflict, DomainError, NotFound
from reviews import permissions as perms
from reviews import services
from reviews import timeline as timeline_lines
from reviews.forms import (
    AnswerForm,
    CommentForm,
    FindingForm,
    OverrideForm,
    ReasonForm,
    ResolveForm,
    SignOffForm,
)
from reviews.gate import evaluate_gate, item_rows
from reviews.models import Decision, Finding, Response, Verdict
from reviews.selectors import (
    progress_from_rows,
    responses_for_review,
)
from reviews.views import reads, speed
from reviews.views._common import domain_errors, flash_error, get_review, wants_json
from reviews.views.fragments import (
    findings_html,
    form_html,
    gate_panel_html,
    section_options,
)
from reviews.views.rows import LABEL_LENGTH, RowRenderer, counts_html, truncate
from reviews.views.sections import (
    Outline,
    checklist_column,
    expand_from,
    page_rows,
    section_fragment,
)

FILTERS = [("all", "All"), ("open", "Open"), ("failed", "Failed"), ("mine", "Mine")]
ACTION_ORDER = ["submit", "signoff", "request_changes", "approve", "override", "reopen", "withdraw"]
REVIEW_TEMPLATE = "reviews/review.html"


def _filter_mode(request) -> str:
    mode = request.GET.get("filter") or request.POST.get("filter") or "all"
    return mode if mode in dict(FILTERS) else "all"


# The items or findings each of the gate panel's warnings lists (its count says how many).
PANEL_WARNING_ENTRIES = 5


def _actions(review, user, gate, progress):
    """The actions panel: each action of the review's state with the reasons it is refused
    (the guard's), for a sign-off the warnings (most items still open), and for an approval
    the gate's warnings, which the lead confirms having seen (``confirm``: their digest)."""
    rows = []
    for name in ACTION_ORDER:
        action = services.ACTIONS[name]
        if review.state not in action.sources:
            continue
        reasons = services.why_not(name, review, user, gate=gate)
        warnings, confirm = [], ""
        if name == "signoff":
            warnings = services.signoff_warnings(progress)
        elif name == "approve" and not reasons:
            warnings = [w.message for w in gate.warnings]
            confirm = gate.warnings_digest()
        rows.append(
            {
                "name": name,
                "label": action.label,
                "reasons": reasons,
                "warnings": warnings,
                "confirm": confirm,
            }
        )
    return rows


def _gate_html(request, gate) -> str:
    """The gate panel: the phone bar (its state and links to it and the actions, fixed at the
    top of narrow screens), its rules, then its warnings (not blocking)."""
    context = {"gate": gate}
    # SafeStrings all (the bar and the warnings rendered templates), and so is their sum.
    return (
        render_to_string("reviews/_gate_bar.html", context, request=request)
        + gate_panel_html(gate)
        + render_to_string("reviews/_gate_warnings.html", context, request=request)
    )


def review_context(request, review, *, mode=None, overrides=None, forms=None):
    """Everything the review page shows, in a constant number of queries (the answers once,
    narrow, for the progress bars, the gate's item rules and the choice of sections; the full
    rows only of open sections whose HTML is not cached)."""
    user = request.user
    mode = mode or _filter_mode(request)
    outline = Outline(page_rows(review))
    findings = reads.findings(review)
    signoffs = reads.signoffs(review)
    gate = evaluate_gate(
        review,
        user,
        data=reads.PageGateData(review, items=outline.rows, findings=findings, signoffs=signoffs),
        warning_limit=PANEL_WARNING_ENTRIES,
    )
    can_answer = perms.can_answer(user, review) and not review.is_read_only
    can_raise = perms.can_raise_finding(user, review) and not review.is_read_only
    for finding in findings:
        finding.can_resolve = not review.is_read_only and perms.can_resolve_finding(user, finding)
    forms = forms or {}
    can_assign = perms.can_assign(user, review) and not review.is_read_only
    assignments, assignable = reads.reviewers(review)
    finding_form = forms.get("finding")
    csrf_token = get_token(request)
    q = speed.search_query(request)
    matches = speed.search_matches(review, q) if q else None
    checklist = checklist_column(
        review,
        outline,
        mode=mode,
        user=user,
        can_answer=can_answer,
        csrf_token=csrf_token,
        expand=expand_from(request, outline),
        overrides=overrides,
        search=matches,
    )
    return {
        "review": review,
        "spec": review.spec,
        "project": review.spec.project,
        "checklist": checklist,
        "section_options": section_options(outline) if can_assign else "",
        "progress": outline.progress,
        "gate": gate,
        "findings": findings,
        "findings_html": findings_html(findings, review, csrf_token),
        "gate_html": _gate_html(request, gate),
        "progress_counts": mark_safe(counts_html(outline.progress)),  # noqa: S308 - numbers
        "open_findings": sum(1 for f in findings if f.status == "open"),
        "signoffs": signoffs,
        "timeline": timeline_lines_html(review, reads.timeline(review)),
        "actions": _actions(review, user, gate, outline.progress),
        "filters": FILTERS,
        "filter": mode,
        "q": q,
        "matches": len(matches) if matches is not None else None,
        "can_answer": can_answer,
        "can_raise": can_raise,
        "finding_form_open": bool(finding_form is not None and finding_form.errors),
        "finding_form_html": form_html(finding_form if finding_form is not None else FindingForm)
        if can_raise
        else "",
        "override_form_html": form_html(forms.get("override", OverrideForm)),
        "assignments": assignments,
        "can_assign": can_assign,
        "assignable": assignable if can_assign else [],
    }


@login_required
@domain_errors
@require_http_methods(["GET", "HEAD"])
def review_detail(request, pk: int):
    review = reads.get_review(request.user, pk)
    return render(request, REVIEW_TEMPLATE, review_context(request, review))


def timeline_lines_html(review, rows) -> str:
    """The timeline's lines from one more than a page of event rows, with the link to the
    older ones when there are more."""
    lines, cursor = timeline_lines.page(rows)
    more_url = (
        f"{reverse('reviews:timeline', args=[review.pk])}?before={cursor}#timeline"
        if cursor
        else ""
    )
    return render_to_string("reviews/_timeline.html", {"entries": lines, "more_url": more_url})


@login_required
@domain_errors
@require_http_methods(["GET", "HEAD"])
def timeline(request, pk: int):
    """The review's timeline, a page at a time: ``?before=<event id>`` shows the events older
    than that one (the "show older events" link; no script needed)."""
    review = reads.get_review(request.user, pk)
    raw = request.GET.get("before", "")
    before = int(raw) if raw.isdigit() else None
    if raw and before is None:
        return HttpResponseBadRequest(
            "'before' must be an event number.", content_type="text/plain; charset=utf-8"
        )
    lines, cursor = timeline_lines.review_page(review.pk, before)
    more_url = f"{request.path}?before={cursor}#timeline" if cursor else ""
    context = {"review": review, "entries": lines, "more_url": more_url, "before": before}
    return render(request, "reviews/timeline.html", context)


@login_required
@domain_errors
@require_http_methods(["GET", "HEAD"])
def section_rows(request, pk: int, section_id: int):
    """The rows of one section, as an HTML fragment for the page script; without it (a plain
    link), the review page with that section open."""
    review = reads.get_review(request.user, pk)
    if request.headers.get("X-Requested-With") != "XMLHttpRequest":
        url = reverse("reviews:review", args=[review.pk])
        mode = _filter_mode(request)
        query = f"filter={mode}&" if mode != "all" else ""
        return redirect(f"{url}?{query}section={section_id}#section-{section_id}")
    can_answer = perms.can_answer(request.user, review) and not review.is_read_only
    html = section_fragment(
        review,
        section_id,
        can_answer=can_answer,
        csrf_token=get_token(request),
        mode=_filter_mode(request),
        user_id=request.user.pk,
    )
    if html is None:
        raise NotFound("No such section in this review.")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


# --- answers -------------------------------------------------------------------------------


def _side_panels_html(request, review, gate, overall, signoffs) -> dict[str, str]:
    """The actions panel and the sign-off list as the page shows them (the templates the page
    includes), for a save that changed what they say."""
    context = {
        "review": review,
        "actions": _actions(review, request.user, gate, overall),
        "override_form_html": form_html(OverrideForm),
        "signoffs": signoffs,
    }
    return {
        "actions_html": render_to_string("reviews/_actions.html", context, request=request),
        "signoffs_html": render_to_string("reviews/_signoffs.html", context, request=request),
    }


def _answer_json(request, review, response, changed):
    """The saved row, the overall and section progress, and every panel that shows the gate,
    actions or sign-offs (a change makes sign-offs stale): one narrow read of the answers serves
    the progress bars and the gate's item rules, one read of the sign-offs the rest."""
    rows = item_rows(review)
    item_id = response.item_id
    mine = next(row for row in rows if row[0] == item_id)  # an ItemRow tuple
    section_id = mine[9] or mine[8]  # the group's section, or the section
    overall, progress_by_section = progress_from_rows(rows, only={section_id})
    can_answer = perms.can_answer(request.user, review) and not review.is_read_only
    # A save that changed the answer moved the content under the review's lock: it made every
    # override lapse, and new ones need that lock too. As of the save's commit there are none.
    settled = {"overrides": {}} if changed else {}
    signoffs = reads.signoffs(review)
    gate = evaluate_gate(
        review,
        request.user,
        data=reads.PageGateData(review, items=rows, signoffs=signoffs, **settled),
        warning_limit=PANEL_WARNING_ENTRIES,
    )
    row_html = RowRenderer(
        review,
        can_answer=can_answer,
        csrf_token=get_token(request),
        filter_mode=_filter_mode(request),
    ).render(response)
    gate_html = _gate_html(request, gate)
    return JsonResponse(
        {
            "ok": True,
            "changed": changed,
            "response": {
                "item": response.item_id,
                "verdict": response.verdict,
                "note": response.note,
                "version": response.version,
                "answered_by": response.answered_by.label if response.answered_by_id else None,
            },
            "progress": {
                "overall": overall,
                "section": {"id": section_id, **progress_by_section.get(section_id, {})},
            },
            "gate": {"ready": gate.ready},
            "row_html": row_html,
            "gate_html": gate_html,
            **_side_panels_html(request, review, gate, overall, signoffs),
        }
    )


def _load_response(review, item_id) -> Response:
    response = (
        responses_for_review(review).filter(item_id=item_id).first()
        if item_id is not None
        else None
    )
    if response is None:
        raise NotFound("No such item in this review.")
    return response


def _field_errors(form) -> dict:
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


@login_required
@domain_errors
@require_POST
def answer(request, pk: int, item_id: int):
    review = get_review(request.user, pk)
    form = AnswerForm(request.POST)
    as_json = wants_json(request)
    if not form.is_valid():
        details = _field_errors(form)
        message = next(iter(details.values()))[0]
        if as_json:
            return JsonResponse(
                {"ok": False, "error": {"code": "invalid", "message": message, "details": details}},
                status=400,
            )
        return _answer_page_error(request, review, item_id, message, form.data, status=400)
    data = form.cleaned_data
    try:
        response, changed = services.response_save(
            actor=request.user,
            review=review,
            item_id=item_id,
            verdict=data["verdict"],
            note=data["note"],
            version=data["overwrite"] or data["version"],
        )
    except Conflict as exc:
        current = (exc.details or {}).get("current")
        if as_json:
            body = {
                "ok": False,
                "error": {"code": exc.code, "message": exc.message, "details": exc.details},
            }
            if current:
                fresh = _load_response(review, item_id)
                body["current"] = {
                    **current,
                    "answered_by_label": fresh.answered_by.label if fresh.answered_by_id else "",
                }
            return JsonResponse(body, status=409)
        return _answer_page_error(
            request, review, item_id, exc.message, form.data, status=409, conflict=current
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        if as_json:
            return JsonResponse(
                {
                    "ok": False,
                    "error": {"code": exc.code, "message": exc.message, "details": exc.details},
                },
                status=exc.status,
            )
        return _answer_page_error(request, review, item_id, exc.message, form.data, status=400)
    if as_json:
        # ``response`` comes back from the save with its item and answerer: no re-read.
        return _answer_json(request, review, response, changed)
    name = f"“{truncate(response.item.text, LABEL_LENGTH)}”"  # the item's text, not its key
    if changed and response.verdict == Verdict.UNANSWERED:
        messages.success(request, f"Saved the note on {name}; it is not answered yet.")
    elif changed:
        messages.success(request, f"Saved {name}: {response.get_verdict_display()}.")
    # ``item`` renders the item's section even when it is not one the page opens by default.
    url = reverse("reviews:review", args=[review.pk]) + f"?item={item_id}"
    mode = _filter_mode(request)
    if mode != "all":
        url += f"&filter={mode}"
    return redirect(f"{url}#item-{item_id}")


def _answer_page_error(request, review, item_id, message, data, *, status, conflict=None):
    """Re-render the review page with the error next to the item and the user's input kept."""
    response = _load_response(review, item_id)
    if conflict:
        response.conflict = {
            **conflict,
            "who": response.answered_by.label if response.answered_by_id else "Someone",
            "verdict_label": dict(Verdict.choices).get(conflict.get("verdict"), ""),
        }
    # The form keeps the version the reader's page had, also after a conflict: only the
    # conflict's "Overwrite with mine" (which carries theirs) saves over the newer answer.
    with contextlib.suppress(TypeError, ValueError):
        response.version = int(data.get("version") or response.version)
    verdict = data.get("verdict")
    if verdict in ("pass", "fail", "na"):
        response.verdict = verdict
    response.note = (data.get("note") or "")[:10_000]
    response.error = message
    context = review_context(request, review, overrides={response.item_id: response})
    context["answer_error"] = message
    context["answer_item"] = response.item
    return render(request, REVIEW_TEMPLATE, context, status=status)


# --- actions, findings, sign-offs ----------------------------------------------------------


def _back(review, anchor=""):
    return redirect(reverse("reviews:review", args=[review.pk]) + anchor)


# Approving and overriding need a recent authentication (a sign-in or a password confirmation
# within the last minutes: ``accounts.reauth``).
REAUTHENTICATED_ACTIONS = frozenset({"approve", "override"})


def _needs_reauthentication(request) -> bool:
    return resolve(request.path_info).kwargs.get("name") in REAUTHENTICATED_ACTIONS


@login_required
@domain_errors
@require_POST
@recent_authentication_required(enabled=_needs_reauthentication)
def action(request, pk: int, name: str):
    review = get_review(request.user, pk)
    if name not in services.ACTIONS:
        raise NotFound("No such action.")
    try:
        if name == "override":
            form = OverrideForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Override: " + _form_message(form))
                return _back(review, "#actions")
            services.override_grant(
                actor=request.user,
                review=review,
                rule=form.cleaned_data["rule"],
                justification=form.cleaned_data["justification"],
                expires_at=form.cleaned_data["expires_at"],
            )
            messages.success(request, "Override granted.")
        elif name in ("reopen", "withdraw"):
            form = ReasonForm(request.POST)
            if name == "reopen" and not form.is_valid():
                messages.error(request, "Reopening needs a reason.")
                return _back(review, "#actions")
            reason = form.data.get("reason", "").strip()
            if name == "reopen":
                services.review_reopen(actor=request.user, review=review, reason=reason)
            else:
                services.review_withdraw(actor=request.user, review=review, reason=reason)
            messages.success(request, f"Review {'reopened' if name == 'reopen' else 'withdrawn'}.")
        elif name == "signoff":
            form = SignOffForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Sign-off: " + _form_message(form))
                return _back(review, "#actions")
            signoff = services.signoff_create(
                actor=request.user,
                review=review,
                comment=form.cleaned_data["comment"],
                decision=form.cleaned_data["decision"] or Decision.APPROVE,
            )
            if signoff.decision == Decision.REQUEST_CHANGES:
                messages.success(request, "Signed off: you requested changes.")
            else:
                messages.success(request, "Signed off: you approved the current content.")
            for warning in signoff.warnings:
                messages.warning(request, warning)
        else:
            form = CommentForm(request.POST)
            comment = form.cleaned_data["comment"] if form.is_valid() else ""
            if name == "approve":
                # The page asks the lead to confirm the gate's warnings (a check box carrying
                # their digest); the service refuses while the confirmation does not match.
                review = services.review_approve(
                    actor=request.user,
                    review=review,
                    comment=comment,
                    warnings_seen=request.POST.get("warnings_seen", "")[:64],
                )
            else:
                fn = {
                    "submit": services.review_submit,
                    "request_changes": services.review_request_changes,
                }[name]
                review = fn(actor=request.user, review=review, comment=comment)
            messages.success(request, f"Review is now {review.get_state_display().lower()}.")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash_error(request, exc)
        if exc.code == "warnings_unconfirmed":
            return _back(review, "#actions")
    return _back(review)


def _form_message(form) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


def _item_choices(review) -> list:
    """The review's items by their text, grouped by section (a group under its section), in
    checklist order: ``FindingForm``'s choices."""
    rows = (
        Response.objects.filter(review=review)
        .order_by("item__version_id", "item__position")
        .values_list(
            "item_id", "item__text", "item__section__title", "item__section__parent__title"
        )
    )
    groups: dict[str, list] = {}
    for item_id, text, section, parent in rows:
        title = f"{parent} › {section}" if parent else section
        groups.setdefault(title, []).append((item_id, text))
    return list(groups.items())


def _finding_form_page(request, review, form, *, item_id=None, status=200):
    """The finding form on a page of its own (from an item's row, and after any error): the
    chosen item shown by its text, every error at its field, what was typed kept."""
    texts = {pk: text for _, group in form.fields["item"].choices[1:] for pk, text in group}
    context = {
        "review": review,
        "spec": review.spec,
        "project": review.spec.project,
        "form": form,
        "item_id": item_id if item_id in texts else None,
        "item_text": texts.get(item_id, ""),
    }
    return render(request, "reviews/finding_form.html", context, status=status)


def _require_raise(request, review) -> None:
    perms.require(
        perms.can_raise_finding(request.user, review),
        request.user,
        review.spec.project_id,
        "Only reviewers and leads raise findings.",
        "review",
    )


@login_required
@domain_errors
@require_http_methods(["GET", "HEAD"])
def finding_new(request, pk: int):
    """The finding form; ``?item=<id>`` (an item row's "Raise finding") chooses the item."""
    review = get_review(request.user, pk)
    _require_raise(request, review)
    raw = request.GET.get("item", "")
    item_id = int(raw) if raw.isdigit() else None
    form = FindingForm(items=_item_choices(review), initial={"item": item_id})
    return _finding_form_page(request, review, form, item_id=item_id)


@login_required
@domain_errors
@require_POST
def finding_raise(request, pk: int):
    review = get_review(request.user, pk)
    form = FindingForm(request.POST, items=_item_choices(review))
    raw = request.POST.get("item", "")
    typed_item = int(raw) if raw.isdigit() else None
    if not form.is_valid():
        return _finding_form_page(request, review, form, item_id=typed_item, status=400)
    data = form.cleaned_data
    try:
        finding = services.finding_raise(
            actor=request.user,
            review=review,
            severity=data["severity"],
            title=data["title"],
            location=data["location"],
            impact=data["impact"],
            recommendation=data["recommendation"],
            verification=data["verification"],
            item_id=data["item"],
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        _form_errors_from(form, exc)
        return _finding_form_page(request, review, form, item_id=typed_item, status=exc.status)
    messages.success(request, f"Finding #{finding.pk} raised.")
    return _back(review, f"#finding-{finding.pk}")


def _form_errors_from(form, exc: DomainError) -> None:
    """A service's refusal on the form: at the fields it names, else above the fields."""
    details = exc.details if isinstance(exc.details, dict) else {}
    placed = False
    for field, errors in details.items():
        if field in form.fields:
            form.add_error(field, errors if isinstance(errors, list) else [str(errors)])
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _get_finding(review, fid) -> Finding:
    finding = review.findings.select_related("review__spec").filter(pk=fid).first()
    if finding is None:
        raise NotFound("No such finding.")
    return finding


@login_required
@domain_errors
@require_POST
def finding_resolve(request, pk: int, fid: int):
    review = get_review(request.user, pk)
    finding = _get_finding(review, fid)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Resolving a finding needs a note.")
        return _back(review, f"#finding-{fid}")
    try:
        services.finding_resolve(
            actor=request.user,
            finding=finding,
            note=form.cleaned_data["note"],
            status=form.cleaned_data["status"],
        )
        messages.success(request, f"Finding #{fid} closed.")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash_error(request, exc)
    return _back(review, f"#finding-{fid}")


@login_required
@domain_errors
@require_POST
def finding_reopen(request, pk: int, fid: int):
    review = get_review(request.user, pk)
    finding = _get_finding(review, fid)
    try:
        services.finding_reopen(
            actor=request.user, finding=finding, note=request.POST.get("note", "")[:5000]
        )
        messages.success(request, f"Finding #{fid} reopened.")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash_error(request, exc)
    return _back(review, f"#finding-{fid}")


@login_required
@domain_errors
@require_POST
def assign(request, pk: int):
    review = get_review(request.user, pk)
    email = (request.POST.get("email") or "").strip()[:254]
    section_raw = request.POST.get("section") or ""
    section_id = int(section_raw) if section_raw.isdigit() else None
    if not email:
        messages.error(request, "Choose a reviewer.")
        return _back(review, "#reviewers")
    try:
        if request.POST.get("remove") == "1":
            services.review_unassign(
                actor=request.user, review=review, email=email, section_id=section_id
            )
            messages.success(request, f"{email} unassigned.")
        else:
            services.review_assign(
                actor=request.user, review=review, email=email, section_id=section_id
            )
            messages.success(request, f"{email} assigned.")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash_error(request, exc)
    return _back(review, "#reviewers")
