"""The review page: sections and items, answers (with and without JavaScript), findings,
sign-offs, the gate panel, actions and the timeline."""

import contextlib

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import resolve, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import Conflict, DomainError, NotFound
from reviews import permissions as perms
from reviews import services
from reviews.forms import (
    AnswerForm,
    CommentForm,
    FindingForm,
    OverrideForm,
    ReasonForm,
    ResolveForm,
)
from reviews.gate import GateData, evaluate_gate, item_rows
from reviews.models import Finding, Response, Role, Verdict
from reviews.selectors import (
    findings_for_review,
    progress_from_rows,
    responses_for_review,
    signoffs_for_review,
    timeline,
)
from reviews.views._common import domain_errors, flash_error, get_review, wants_json
from reviews.views.rows import RowRenderer, Rows, collapsed_section_html, section_summary

FILTERS = [("all", "All"), ("open", "Open"), ("failed", "Failed"), ("mine", "Mine")]
ACTION_ORDER = ["submit", "signoff", "request_changes", "approve", "override", "reopen", "withdraw"]
REVIEW_TEMPLATE = "reviews/review.html"
# Rendering a row costs ~40 µs; a 1,000-item review renders the sections with open items up to
# about this many rows and leaves the others collapsed, loaded when opened.
SECTION_BUDGET = 150


def _filter_mode(request) -> str:
    mode = request.GET.get("filter") or request.POST.get("filter") or "all"
    return mode if mode in dict(FILTERS) else "all"


def _keep(response: Response, mode: str, user) -> bool:
    if mode == "open":
        return response.verdict == Verdict.UNANSWERED or response.needs_recheck
    if mode == "failed":
        return response.verdict == Verdict.FAIL
    if mode == "mine":
        return response.answered_by_id == user.pk
    return True


def build_sections(responses, progress, mode, user, overrides=None, renderer=None):
    """Templates → sections → groups → responses, in checklist order (no queries). With a
    ``renderer``, each block also carries its rows' HTML. (The report's: it shows every row;
    the review page uses ``page_sections``.)"""
    overrides = overrides or {}
    templates: dict[int, dict] = {}
    for response in responses:
        response = overrides.get(response.item_id, response)
        item = response.item
        version = item.version
        tpl = templates.setdefault(
            version.pk, {"version": version, "sections": {}, "title": version.display_title}
        )
        top = item.section.parent or item.section
        section = tpl["sections"].setdefault(
            top.pk, {"section": top, "blocks": [], "progress": progress.get(top.pk), "shown": 0}
        )
        if not _keep(response, mode, user) and response.item_id not in overrides:
            continue
        group = item.section if item.section.parent_id else None
        if not section["blocks"] or section["blocks"][-1]["group"] != group:
            section["blocks"].append({"group": group, "responses": []})
        section["blocks"][-1]["responses"].append(response)
        section["shown"] += 1
    result = []
    for tpl in templates.values():
        tpl["sections"] = list(tpl["sections"].values())
        if renderer is not None:
            for section in tpl["sections"]:
                for block in section["blocks"]:
                    block["html"] = mark_safe(  # noqa: S308 - rows escape their own text
                        "".join(renderer.render(r) for r in block["responses"])
                    )
        result.append(tpl)
    return result


def _actions(review, user, gate):
    rows = []
    for name in ACTION_ORDER:
        action = services.ACTIONS[name]
        if review.state not in action.sources:
            continue
        reasons = services.why_not(name, review, user, gate=gate)
        rows.append({"name": name, "label": action.label, "reasons": reasons})
    return rows


# Positions in a ``Rows`` value tuple (see ``rows.ROW_FIELDS``).
_ITEM, _VERDICT, _RECHECK, _BY = 0, 1, 3, 4


def _keep_values(values, mode: str, user) -> bool:
    if mode == "open":
        return values[_VERDICT] == Verdict.UNANSWERED or values[_RECHECK]
    if mode == "failed":
        return values[_VERDICT] == Verdict.FAIL
    if mode == "mine":
        return values[_BY] == user.pk
    return True


def _blocks(rows: Rows, values_list, renderer, *, mode="all", user=None, overrides=None):
    """Group rows into blocks (a run of rows in the same group) with their HTML."""
    overrides = overrides or {}
    blocks = []
    for values in values_list:
        override = overrides.get(values[_ITEM])
        if override is None and not _keep_values(values, mode, user):
            continue
        section = rows.section(values)
        group = section if section.parent_id else None
        if not blocks or blocks[-1]["group"] is not group:
            blocks.append({"group": group, "rows": []})
        blocks[-1]["rows"].append(override or rows.row(values))
    for block in blocks:
        block["html"] = mark_safe(  # noqa: S308 - rows escape their own text
            "".join(renderer.render(r) for r in block.pop("rows"))
        )
    return blocks


def page_sections(rows: Rows, progress, mode, user, renderer, *, review, expand=(), overrides=None):
    """Templates → sections → blocks for the review page. Every section shows its title and
    progress; rows are rendered only for the expanded ones: with a filter or ``expand="all"``
    every section, otherwise the first section with open items (the first section when none
    is open), the next ones with open items while they fit ``SECTION_BUDGET``, and the ones
    named in ``expand``. The others are collapsed and loaded on demand."""
    overrides = overrides or {}
    templates: dict[int, dict] = {}
    sections = []
    for values in rows.values:
        version = rows.version(values)
        tpl = templates.get(version.pk)
        if tpl is None:
            tpl = templates[version.pk] = {
                "version": version,
                "title": version.display_title,
                "sections": {},
            }
        top = rows.top_section(values)
        sec = tpl["sections"].get(top.pk)
        if sec is None:
            sec = tpl["sections"][top.pk] = {
                "section": top,
                "progress": progress.get(top.pk),
                "values": [],
                "open": 0,
                "forced": False,
            }
            sections.append(sec)
        sec["values"].append(values)
        if values[_VERDICT] == Verdict.UNANSWERED or values[_RECHECK]:
            sec["open"] += 1
        if values[_ITEM] in overrides:
            sec["forced"] = True
    src_prefix = reverse("reviews:section_rows", args=[review.pk, 0])[:-2]
    everything = mode != "all" or expand == "all"
    expand = set() if everything else set(expand)
    if not everything:
        used = 0
        first_open = next(
            (sec for sec in sections if sec["open"]), sections[0] if sections else None
        )
        for sec in sections:
            size = len(sec["values"])
            if sec is first_open or (used and sec["open"] and used + size <= SECTION_BUDGET):
                sec["forced"] = True
                used += size
    for sec in sections:
        values = sec.pop("values")
        sec["size"] = len(values)
        sec["summary"] = section_summary(sec["section"], sec["progress"])
        sec["src"] = f"{src_prefix}{sec['section'].pk}/"
        if everything or sec["forced"] or sec["section"].pk in expand:
            sec["blocks"] = _blocks(
                rows, values, renderer, mode=mode, user=user, overrides=overrides
            )
            sec["collapsed"] = False
        else:
            sec["blocks"] = []
            sec["collapsed"] = True
            sec["html"] = collapsed_section_html(
                sec["section"], sec["progress"], sec["size"], sec["src"]
            )
        sec["shown"] = len(sec["blocks"])
    result = []
    for tpl in templates.values():
        tpl["sections"] = list(tpl["sections"].values())
        result.append(tpl)
    return result


def _expand_from(request, rows: Rows):
    """The sections to render besides the default ones: ``?all=1``, ``?section=<id>`` and
    ``?item=<id>`` (the gate panel's links, without JavaScript)."""
    if request.GET.get("all") == "1":
        return "all"
    wanted = set()
    section = request.GET.get("section") or ""
    if section.isdigit():
        wanted.add(int(section))
    item = request.GET.get("item") or ""
    if item.isdigit():
        item_id = int(item)
        for values in rows.values:
            if values[_ITEM] == item_id:
                wanted.add(rows.top_section(values).pk)
                break
    return wanted


def review_context(request, review, *, mode=None, overrides=None, forms=None):
    """Everything the review page shows, in a constant number of queries (the rows once, for
    the items, the progress bars and the gate's item rules alike)."""
    user = request.user
    mode = mode or _filter_mode(request)
    rows = Rows(review)
    gate_rows = rows.gate_rows()
    overall, progress_by_section = progress_from_rows(gate_rows)
    findings = list(findings_for_review(review))
    signoffs = list(signoffs_for_review(review))
    gate = evaluate_gate(
        review,
        user,
        data=GateData(review, items=gate_rows, findings=findings, signoffs=signoffs),
    )
    can_answer = perms.can_answer(user, review) and not review.is_read_only
    can_raise = perms.can_raise_finding(user, review) and not review.is_read_only
    for finding in findings:
        finding.review = review
        finding.can_resolve = not review.is_read_only and perms.can_resolve_finding(user, finding)
    forms = forms or {}
    can_assign = perms.can_assign(user, review) and not review.is_read_only
    assignments = list(
        review.assignments.select_related("user", "section").order_by("user__email", "section_id")
    )
    assignable = []
    if can_assign:
        assignable = list(
            review.spec.project.memberships.filter(role__in=[Role.REVIEWER, Role.LEAD])
            .order_by("user__email")
            .values_list("user__email", flat=True)
        )
    renderer = RowRenderer(
        review, can_answer=can_answer, csrf_token=get_token(request), filter_mode=mode
    )
    return {
        "review": review,
        "spec": review.spec,
        "project": review.spec.project,
        "templates": page_sections(
            rows,
            progress_by_section,
            mode,
            user,
            renderer,
            review=review,
            expand=_expand_from(request, rows),
            overrides=overrides,
        ),
        "progress": overall,
        "gate": gate,
        "findings": findings,
        "open_findings": sum(1 for f in findings if f.status == "open"),
        "signoffs": signoffs,
        "events": timeline(review, limit=50),
        "actions": _actions(review, user, gate),
        "filters": FILTERS,
        "filter": mode,
        "can_answer": can_answer,
        "can_raise": can_raise,
        "finding_form": forms.get("finding") or FindingForm(),
        "override_form": forms.get("override") or OverrideForm(),
        "resolve_form": ResolveForm(),
        "assignments": assignments,
        "can_assign": can_assign,
        "assignable": assignable,
    }


def _overall(progress_by_section, responses) -> dict:
    counts = {"pass": 0, "fail": 0, "na": 0, "unanswered": 0}
    for response in responses:
        counts[response.verdict] = counts.get(response.verdict, 0) + 1
    total = sum(counts.values())
    answered = total - counts["unanswered"]
    return {
        **counts,
        "total": total,
        "answered": answered,
        "percent": round(100 * answered / total) if total else 0,
    }


@login_required
@domain_errors
@require_http_methods(["GET", "HEAD"])
def review_detail(request, pk: int):
    review = get_review(request.user, pk)
    return render(request, REVIEW_TEMPLATE, review_context(request, review))


@login_required
@domain_errors
@require_http_methods(["GET", "HEAD"])
def section_rows(request, pk: int, section_id: int):
    """The rows of one section, as an HTML fragment for the page script; without it (a plain
    link), the review page with that section open."""
    review = get_review(request.user, pk)
    if request.headers.get("X-Requested-With") != "XMLHttpRequest":
        url = reverse("reviews:review", args=[review.pk])
        return redirect(f"{url}?section={section_id}#section-{section_id}")
    rows = Rows(review, top_section_id=section_id)
    if not rows.values:
        raise NotFound("No such section in this review.")
    can_answer = perms.can_answer(request.user, review) and not review.is_read_only
    renderer = RowRenderer(review, can_answer=can_answer, csrf_token=get_token(request))
    html = render_to_string(
        f"{REVIEW_TEMPLATE}#section-blocks",
        {"sec": {"blocks": _blocks(rows, rows.values, renderer)}},
        request=request,
    )
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


# --- answers -------------------------------------------------------------------------------


def _answer_json(request, review, response, changed):
    """The saved row, the overall and section progress and the gate panel: one narrow read of
    the answers serves the progress bars and the gate's item rules."""
    rows = item_rows(review)
    item_id = response.item_id
    mine = next(row for row in rows if row[0] == item_id)  # an ItemRow tuple
    section_id = mine[9] or mine[8]  # the group's section, or the section
    overall, progress_by_section = progress_from_rows(rows, only={section_id})
    can_answer = perms.can_answer(request.user, review) and not review.is_read_only
    # A save that changed the answer moved the content under the review's lock: it made every
    # current sign-off stale and every override lapse, and new ones need that lock too. As of
    # the save's commit there are none of either: two reads fewer.
    settled = {"signoffs": (), "overrides": {}} if changed else {}
    gate = evaluate_gate(review, request.user, data=GateData(review, items=rows, **settled))
    row_html = RowRenderer(
        review,
        can_answer=can_answer,
        csrf_token=get_token(request),
        filter_mode=_filter_mode(request),
    ).render(response)
    gate_html = render_to_string(
        f"{REVIEW_TEMPLATE}#gate-panel", {"gate": gate, "review": review}, request=request
    )
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
            version=data["version"],
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
    if changed:
        messages.success(request, f"Saved {response.item.key}: {response.get_verdict_display()}.")
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
        response.version = conflict.get("version", response.version)
    else:
        with contextlib.suppress(TypeError, ValueError):
            response.version = int(data.get("version") or response.version)
    verdict = data.get("verdict")
    if verdict in ("pass", "fail", "na"):
        response.verdict = verdict
    response.note = (data.get("note") or "")[:10_000]
    response.error = message
    context = review_context(request, review, overrides={response.item_id: response})
    context["answer_error"] = message
    return render(request, REVIEW_TEMPLATE, context, status=status)


# --- actions, findings, sign-offs ----------------------------------------------------------


def _back(review, anchor=""):
    return redirect(reverse("reviews:review", args=[review.pk]) + anchor)


# Approving and overriding need a recent authentication (allauth's reauthentication page).
REAUTHENTICATED_ACTIONS = frozenset({"approve", "override"})


def _needs_reauthentication(request) -> bool:
    return resolve(request.path_info).kwargs.get("name") in REAUTHENTICATED_ACTIONS


@login_required
@domain_errors
@require_POST
@reauthentication_required(enabled=_needs_reauthentication)
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
        else:
            form = CommentForm(request.POST)
            comment = form.cleaned_data["comment"] if form.is_valid() else ""
            if name == "signoff":
                services.signoff_create(actor=request.user, review=review, comment=comment)
                messages.success(request, "Signed off.")
            else:
                fn = {
                    "submit": services.review_submit,
                    "request_changes": services.review_request_changes,
                    "approve": services.review_approve,
                }[name]
                review = fn(actor=request.user, review=review, comment=comment)
                messages.success(request, f"Review is now {review.get_state_display().lower()}.")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash_error(request, exc)
    return _back(review)


def _form_message(form) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


@login_required
@domain_errors
@require_POST
def finding_raise(request, pk: int):
    review = get_review(request.user, pk)
    form = FindingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The finding was not raised: " + _form_message(form))
        return _back(review, "#findings")
    data = form.cleaned_data
    item_id = None
    if data["item_key"]:
        item_id = (
            Response.objects.filter(review=review, item__key=data["item_key"].strip())
            .values_list("item_id", flat=True)
            .first()
        )
        if item_id is None:
            messages.error(request, f"No item with key {data['item_key']} in this review.")
            return _back(review, "#findings")
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
            item_id=item_id,
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        flash_error(request, exc)
        return _back(review, "#findings")
    messages.success(request, f"Finding #{finding.pk} raised.")
    return _back(review, f"#finding-{finding.pk}")


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
