"""Stored script in every free text that reaches a page beyond the ones
test_fuzz_importer.py covers (spec, finding, answer and sign-off texts): token names, the
admin's import preview, checklist export, and every reason and note — the request-changes,
approve, reopen and withdraw texts, override justifications, finding resolution and reopening
notes, revision notes.

Each text carries ``<script>alert(1)</script>`` and ``"><img src=x onerror=alert(1)>`` behind
a marker; every page that could show it is rendered, and a live tag never appears, while each
marker that does appear is followed by the escaped form. Each text must reach at least the
pages listed in ``SHOWN_ON`` (otherwise the test would prove nothing).
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from markdown_it import MarkdownIt

from accounts.services import token_create
from audit.models import Event
from checklists.services import checklist_import
from reviews.models import Verdict
from reviews.services import (
    finding_raise,
    finding_reopen,
    finding_resolve,
    override_grant,
    response_save,
    review_approve,
    review_reopen,
    review_request_changes,
    review_submit,
    review_withdraw,
    spec_post_revision,
)
from tests.accounts.factories import UserFactory, record_reauthentication
from tests.reviews.factories import make_version, make_world

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = SCRIPT + IMG
LIVE_TAGS = ("<script>alert", "<img src=x", "onerror=alert(1)>")
# What may follow a marker: the text escaped for HTML (Markdown: once rendered), or for a JSON
# island.
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "\\u003Cscript\\u003Ealert(1)")

MARKERS = {
    "token": "TOKNAME-",
    "request changes": "REQCHG-",
    "revision note": "REVNOTE-",
    "resolution note": "RESNOTE-",
    "finding reopen note": "FREOPEN-",
    "override": "OVERRIDE-",
    "approve comment": "APPROVE-",
    "reopen reason": "REOPEN-",
    "withdraw reason": "WITHDRAW-",
}

# Where each text must show at least (found by rendering; DESIGN.md asks for no more). Reopen
# and withdraw reasons reach no page but the audit record in the admin: the review's timeline
# shows the verb only (and revision notes show on the spec page, not on the timeline).
SHOWN_ON = {
    "token": {"tokens", "admin tokens"},
    "request changes": {"review", "admin events", "admin sign-off"},  # the lead's sign-off
    "revision note": {"spec", "admin events"},
    "resolution note": {"review", "report", "report.md", "api report", "admin finding"},
    "finding reopen note": {"review", "admin events"},
    "override": {"review", "report.md", "api report", "admin override", "admin events"},
    "approve comment": {"review", "admin events"},
    "reopen reason": {"admin events"},
    "withdraw reason": {"admin events"},
}


def text(name: str) -> str:
    return MARKERS[name] + HOSTILE


# Markdown downloads are judged as rendered (CommonMark): they escape Markdown, not HTML.
MARKDOWN_PAGES = {"report.md", "api report"}


def problems_in(body: str, page: str) -> list[str]:
    """Live tags, and markers not followed by the escaped text."""
    if page in MARKDOWN_PAGES:
        body = MarkdownIt("commonmark").render(body)
    found = [f"{page}: live {tag!r}" for tag in LIVE_TAGS if tag in body]
    for name, marker in MARKERS.items():
        for match in re.finditer(re.escape(marker), body):
            rest = body[match.end() :]
            if not rest.startswith(ESCAPED):
                found.append(f"{page}: {name} shown as {rest[:40]!r}")
    return found


def shown(body: str) -> set[str]:
    return {name for name, marker in MARKERS.items() if marker in body}


@pytest.fixture
def story(db):
    """A review taken through every transition that takes a text, each text hostile; the
    lead's own token is named with it too."""
    world = make_world()
    review = world.review
    token_create(actor=world.lead, name=text("token"))
    review_submit(actor=world.author, review=review)
    review_request_changes(actor=world.lead, review=review, comment=text("request changes"))
    spec_post_revision(actor=world.author, spec=world.spec, label="r2", note=text("revision note"))
    for answer in review.responses.all():
        response_save(
            actor=world.reviewer, review=review, item_id=answer.item_id, verdict=Verdict.PASS
        )
    blocker = finding_raise(actor=world.reviewer, review=review, severity="critical", title="B")
    finding_resolve(actor=world.author, finding=blocker, note=text("resolution note"))
    minor = finding_raise(actor=world.reviewer, review=review, severity="suggestion", title="M")
    finding_resolve(actor=world.author, finding=minor, note="done")
    finding_reopen(actor=world.reviewer, finding=minor, note=text("finding reopen note"))
    # No sign-off: the override stands in for it (an override of a satisfied rule is not
    # shown), and the gate opens with it.
    override_grant(actor=world.lead, review=review, rule="signoffs", justification=text("override"))
    world.advance = [
        (
            "approved",
            lambda: review_approve(
                actor=world.lead, review=review, comment=text("approve comment")
            ),
        ),
        (
            "reopened",
            lambda: review_reopen(actor=world.lead, review=review, reason=text("reopen reason")),
        ),
        (
            "withdrawn",
            lambda: review_withdraw(
                actor=world.author, review=review, reason=text("withdraw reason")
            ),
        ),
    ]
    world.root = UserFactory(is_staff=True, is_superuser=True)
    return world


def _pages(world) -> dict:
    review = world.review.pk
    section = world.version.sections.order_by("position").first().pk
    lead = {
        "review": f"/reviews/{review}/",
        "section": f"/reviews/{review}/sections/{section}/",
        "report": f"/reviews/{review}/report/",
        "report.md": f"/reviews/{review}/report.md",
        "spec": f"/specs/{world.spec.pk}/",
        "project": f"/projects/{world.project.slug}/",
        "dashboard": "/",
        "tokens": "/tokens/",
        "api report": f"/api/v1/reviews/{review}/report/",
    }
    finding, minor = world.review.findings.order_by("pk")
    root = {
        "admin tokens": "/admin/accounts/apitoken/",
        "admin finding": f"/admin/reviews/finding/{finding.pk}/change/",
        "admin finding 2": f"/admin/reviews/finding/{minor.pk}/change/",
        "admin override": f"/admin/reviews/override/{world.review.overrides.get().pk}/change/",
        "admin sign-offs": "/admin/reviews/signoff/",
        "admin events list": "/admin/audit/event/",
        **{
            f"admin sign-off {s.pk}": f"/admin/reviews/signoff/{s.pk}/change/"
            for s in world.review.signoffs.all()
        },
        **{
            f"admin event {e.pk}": f"/admin/audit/event/{e.pk}/change/"
            for e in Event.objects.filter(project_id=world.project.pk)
        },
    }
    return {"lead": lead, "root": root}


def _render_all(world) -> tuple[list[str], dict[str, set[str]]]:
    lead, root = Client(), Client()
    lead.force_login(world.lead)
    root.force_login(world.root)
    problems, where = [], {}
    for who, pages in _pages(world).items():
        client = lead if who == "lead" else root
        for page, url in pages.items():
            response = client.get(url, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
            assert response.status_code == 200, (page, response.status_code)
            body = response.content.decode()
            problems += problems_in(body, page)
            group = re.sub(r" \d+$", "", page).replace("admin event", "admin events")
            group = "admin sign-off" if group.startswith("admin sign-off") else group
            for name in shown(body):
                where.setdefault(name, set()).add(group)
    return problems, where


def test_every_reason_and_note_is_escaped_wherever_it_shows(story):
    problems, where = _render_all(story)
    for _stage, step in story.advance:
        step()
        more, seen = _render_all(story)
        problems += more
        for name, pages in seen.items():
            where.setdefault(name, set()).update(pages)
    assert not problems
    missing = {name: pages - where.get(name, set()) for name, pages in SHOWN_ON.items()}
    assert not {name: pages for name, pages in missing.items() if pages}, where


def test_token_name_is_escaped_when_created_listed_and_revoked(db):
    user = UserFactory()
    client = Client()
    client.force_login(user)
    record_reauthentication(client, user)
    created = client.post("/tokens/", {"name": text("token"), "expires_in_days": "30"}, follow=True)
    assert created.status_code == 200
    token = user.api_tokens.get()
    revoked = client.post(f"/tokens/{token.pk}/revoke/", follow=True)
    assert revoked.status_code == 200
    for page, response in (("created", created), ("revoked", revoked)):
        body = response.content.decode()
        assert not problems_in(body, page)
        assert "token" in shown(body), f"the {page} page does not show the token's name"


def test_flash_messages_echoing_input_are_escaped(db):
    """The finding form's item choice comes back in an error message on the form's page."""
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    client = Client()
    client.force_login(world.reviewer)
    response = client.post(
        f"/reviews/{world.review.pk}/findings/",
        {"severity": "critical", "title": "T", "item": MARKERS["token"] + SCRIPT},
        follow=True,
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert not problems_in(body, "finding form after a refused finding")
    assert "token" in shown(body)


HOSTILE_DOCUMENT = f"""---
title: Title {SCRIPT}
description: Description {IMG}
---

# Section {SCRIPT}

**Group {IMG}**:

- Item {SCRIPT} text
- [ ] Box {IMG}

| Check | Guidance | Why |
| --- | --- | --- |
| Row {SCRIPT} | Guide {IMG} | Because {SCRIPT} |
"""


@pytest.mark.parametrize(
    "name,document,shows",
    [
        ("checklist.md", HOSTILE_DOCUMENT, "preview"),
        (f"{IMG}.md", HOSTILE_DOCUMENT, "preview"),
        # Refused: the message names the file (the browser's file name loses everything up to
        # its last "/", so the name carries the image tag, which has none).
        (f"{IMG}.md", "just prose, no items\n", "error"),
    ],
)
def test_admin_import_preview_and_errors_are_escaped(db, client, name, document, shows):
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    upload = SimpleUploadedFile(name, document.encode(), "text/markdown")
    response = client.post(
        "/admin/checklists/checklisttemplate/import/", {"file": upload, "slug": "hostile"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    for tag in LIVE_TAGS:
        assert tag not in body, f"the import {shows} renders {tag!r}"
    assert ("<title>Preview:" in body) == (shows == "preview")
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    if shows == "preview":
        assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4, "not every text shown"


def test_export_md_is_a_download_that_round_trips(db, client):
    """export.md is not a page: DESIGN.md wants an export that imports back to the same
    structure, so item text is written as it was imported (script and all) and served as a
    Markdown attachment that no browser renders (nosniff). report.md, by contrast, escapes."""
    version = make_version(
        slug="hostile-export",
        items=[(f"Gate {SCRIPT}", "must", True, False), (f"Second {IMG}", "should", False, False)],
    )
    client.force_login(UserFactory())
    for url in (
        "/checklists/hostile-export/v1/export.md",
        "/api/v1/checklists/hostile-export/versions/1/export/",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/markdown")
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
    again = checklist_import(
        actor=UserFactory(curator=True),
        data=response.content,
        source_name="hostile-export-v1.md",
        slug="hostile-again",
    )
    texts = sorted(version.items.values_list("text", flat=True))
    assert sorted(again.version.items.values_list("text", flat=True)) == texts
