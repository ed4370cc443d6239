"""The checklist library's own import: upload or paste → preview (writes nothing) → import as a
draft or publish, through the same service as the admin, the API and the command."""

import re

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import Event
from checklists import services
from checklists.forms import pack_upload
from checklists.models import ChecklistTemplate, Item, TemplateVersion, VersionStatus
from reviews.models import Role
from tests.accounts.factories import UserFactory
from tests.checklists.factories import ChecklistTemplateFactory, build_version
from tests.reviews.factories import MembershipFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("checklists:import")
CONFIRM_URL = reverse("checklists:import_confirm")

# Our own small document: four sections, one group, severities from the headings, a gate box,
# an "if applicable" item.
DOC = b"""\
---
title: Queue consumer review
description: Checks for a service that reads from a message queue.
---

## Critical Issues (Must Fix)

- [ ] Is every message acknowledged only after it is processed?
- [ ] Is a poison message moved aside after a bounded number of retries?

## Important Issues (Should Fix)

**Operations**:
- Is the consumer lag exported as a metric?
- Is there a runbook for a stuck partition? (if applicable)

## Nice to have (Consider)

- Is the batch size configurable?

## Quality Gate Checklist

- [ ] Does the spec name the queue's owner?
"""
DERIVED_SLUG = "queue-consumer-review"


def upload(data: bytes = DOC, name: str = "queue.md") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/markdown")


def written() -> tuple:
    """Everything an import could write."""
    return (
        ChecklistTemplate.objects.count(),
        TemplateVersion.objects.count(),
        Item.objects.count(),
        Event.objects.count(),
    )


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def preview(client, data: bytes = DOC, name: str = "queue.md", slug: str = ""):
    return client.post(IMPORT_URL, {"file": upload(data, name), "slug": slug})


def confirm(client, response, action: str, **changes):
    """Press a button of the preview page's form, with the values the page holds."""
    form = response.context["form"]
    body = {
        "payload": form["payload"].value(),
        "previewed_slug": form["previewed_slug"].value(),
        "slug": form["slug"].value(),
        "changelog": form["changelog"].value() or "",
        "action": action,
        **changes,
    }
    return client.post(CONFIRM_URL, body)


# --- who may ------------------------------------------------------------------------------

ROLES = ["anonymous", "plain user", "project lead", "staff", "curator", "superuser"]


def make_user(role: str):
    if role == "anonymous":
        return None
    if role == "project lead":
        return MembershipFactory(role=Role.LEAD).user
    return UserFactory(
        is_staff=role in ("staff", "superuser"),
        is_superuser=role == "superuser",
        curator=role == "curator",
    )


def _requests():
    draft = build_version(status=VersionStatus.DRAFT)
    return {
        "import page": ("get", IMPORT_URL, {}),
        "preview": ("post", IMPORT_URL, {"file": upload()}),
        "confirm": (
            "post",
            CONFIRM_URL,
            {
                "payload": pack_upload(DOC, "queue.md"),
                "slug": "matrix",
                "previewed_slug": "matrix",
                "action": "publish",
            },
        ),
        "publish": (
            "post",
            reverse("checklists:publish", args=[draft.template.slug, draft.number]),
            {"changelog": "first"},
        ),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("request_name", ["import page", "preview", "confirm", "publish"])
def test_only_curators_and_superusers_reach_the_import_urls(client, role, request_name):
    method, url, body = _requests()[request_name]
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    before = written()

    response = getattr(client, method)(url, body)

    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    elif role in ("curator", "superuser"):
        expected = {"import page": 200, "preview": 200, "confirm": 302, "publish": 302}
        assert response.status_code == expected[request_name]
        assert not response.get("Location", "").startswith("/accounts/login/")
        return
    else:
        assert response.status_code == 403
    assert written() == before


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_library_offers_import_to_curators_only(client, role):
    client.force_login(make_user(role))
    html = client.get(reverse("checklists:library")).content.decode()
    assert (IMPORT_URL in html) == (role in ("curator", "superuser"))
    assert ("Import a checklist" in html) == (role in ("curator", "superuser"))


def test_import_urls_refuse_other_methods(curator_client):
    assert curator_client.get(CONFIRM_URL).status_code == 405
    assert curator_client.put(IMPORT_URL).status_code == 405


# --- the preview ----------------------------------------------------------------------------


def test_the_import_page_is_a_plain_form(curator_client):
    response = curator_client.get(IMPORT_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" name="file"' in html and 'name="text"' in html and 'name="slug"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline scripts (CSP)"


def test_preview_shows_the_structure_and_writes_nothing(curator_client):
    before = written()

    response = preview(curator_client)

    html = response.content.decode()
    assert response.status_code == 200
    assert written() == before
    assert "Nothing has been saved yet" in html
    assert f"Creates the checklist &#x27;{DERIVED_SLUG}&#x27; with draft v1." in html
    for text in (
        "Critical Issues (Must Fix)",
        "Operations",  # the group
        "Is there a runbook for a stuck partition?",
        "Does the spec name the queue&#x27;s owner?",
        "4 sections, 1 group, 6 items",
        "2 must, 3 should, 1 could",
        "Checks for a service that reads from a message queue.",
    ):
        assert text in html, text
    summary = response.context["summary"]
    assert (summary["gate"], summary["optional"]) == (1, 1)
    assert html.count('class="badge badge-gate"') == 1
    assert html.count('class="badge badge-optional"') == 1
    assert "line 8" in html  # items say where they come from
    form = response.context["form"]
    assert form["slug"].value() == DERIVED_SLUG
    assert "Import as draft" in html and "Import and publish" in html


def test_preview_of_pasted_text(curator_client):
    response = curator_client.post(IMPORT_URL, {"text": DOC.decode(), "slug": "pasted-queue"})
    assert response.status_code == 200
    assert response.context["source_name"] == "pasted text"
    assert response.context["form"]["slug"].value() == "pasted-queue"
    assert response.context["summary"]["items"] == 6
    assert not ChecklistTemplate.objects.exists()


def test_preview_warns_of_a_checklist_with_the_same_title(curator_client):
    other = ChecklistTemplateFactory(slug="queue", title="Queue consumer review")
    build_version(template=other)
    build_version(template=other, status=VersionStatus.DRAFT)

    html = preview(curator_client).content.decode()

    assert "A checklist with the same title already exists" in html
    assert "<code>queue</code>" in html and "latest version v2 (draft)" in html
    assert f"Importing under <code>{DERIVED_SLUG}</code> makes a second checklist" in html


def test_preview_under_an_existing_slug_says_what_it_adds_to(curator_client):
    template = ChecklistTemplateFactory(slug="queue")
    build_version(template=template)

    response = preview(curator_client, slug="queue")

    html = response.content.decode()
    assert "Adds draft v2 to &#x27;queue&#x27;." in html
    assert "its latest version is" in html and ">v1</a> (published)" in html


def test_preview_escapes_the_document(curator_client):
    doc = b"# <script>alert(1)</script> list\n\n- <img src=x onerror=alert(2)> item\n"
    html = preview(curator_client, doc, name="<i onclick=y>x.md").content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<i onclick" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i onclick=y&gt;x.md" in html


# --- importing ------------------------------------------------------------------------------


def test_import_as_draft_writes_one_version_and_an_audit_event(curator_client, curator):
    page = preview(curator_client)
    assert not Event.objects.exists()

    response = confirm(curator_client, page, "draft", changelog="First cut.")

    version = TemplateVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("checklists:version", args=[DERIVED_SLUG, 1])
    assert (version.status, version.number, version.changelog) == ("draft", 1, "First cut.")
    assert version.template.slug == DERIVED_SLUG and version.items.count() == 6
    assert version.source_name == "queue.md"
    event = Event.objects.get()
    assert (event.verb, event.actor_id, event.object_id) == (
        "checklist.imported",
        curator.pk,
        version.pk,
    )
    # The version's page says what happened and offers to publish the draft.
    html = curator_client.get(response["Location"]).content.decode()
    assert "created draft v1 of &#x27;queue-consumer-review&#x27;" in html
    assert reverse("checklists:publish", args=[DERIVED_SLUG, 1]) in html
    assert "Publish v1" in html


def test_import_and_publish(curator_client, client):
    response = confirm(curator_client, preview(curator_client), "publish")

    version = TemplateVersion.objects.get()
    assert response.status_code == 302
    assert version.status == VersionStatus.PUBLISHED and version.published_by is not None
    verbs = list(Event.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == ["checklist.imported", "checklist.published"]
    reader = UserFactory()
    client.force_login(reader)
    assert "Queue consumer review" in client.get(reverse("checklists:library")).content.decode()


def test_publish_from_the_version_page(curator_client, curator):
    confirm(curator_client, preview(curator_client), "draft")
    url = reverse("checklists:publish", args=[DERIVED_SLUG, 1])

    response = curator_client.post(url, {"changelog": "Ready."}, follow=True)

    version = TemplateVersion.objects.get()
    assert (version.status, version.changelog, version.published_by) == (
        "published",
        "Ready.",
        curator,
    )
    assert Event.objects.filter(verb="checklist.published", object_id=version.pk).count() == 1
    html = response.content.decode()
    assert "Published v1 of &#x27;queue-consumer-review&#x27;." in html
    assert url not in html  # a published version offers no publish action

    # Publishing it again is refused with the guard's reason; nothing changes.
    before = written()
    again = curator_client.post(url, {"changelog": "Twice"}, follow=True)
    assert "only a draft" in again.content.decode() or "not a draft" in again.content.decode()
    assert written() == before
    assert TemplateVersion.objects.get().changelog == "Ready."


def test_publish_of_an_unknown_version_is_404(curator_client):
    url = reverse("checklists:publish", args=["nope", 1])
    assert curator_client.post(url, {}).status_code == 404


def test_an_empty_draft_shows_why_it_cannot_be_published(curator_client):
    draft = build_version(status=VersionStatus.DRAFT, sections=1, groups=0, items=0)
    html = curator_client.get(
        reverse("checklists:version", args=[draft.template.slug, draft.number])
    ).content.decode()
    assert "Cannot publish: version 1 is empty: add at least one item." in html
    assert re.search(r"<button type=\"submit\" disabled>Publish v1</button>", html)


def test_an_unchanged_document_imports_nothing_and_links_to_its_version(curator_client, curator):
    services.checklist_import(actor=curator, data=DOC, source_name="queue.md", publish=True)
    before = written()

    page = preview(curator_client)
    html = page.content.decode()
    existing = reverse("checklists:version", args=[DERIVED_SLUG, 1])
    assert "Identical to v1 (published)" in html and "nothing will be written" in html
    assert f'href="{existing}"' in html
    assert "Import as draft" not in html

    response = confirm(curator_client, page, "draft")  # a stale page, or a second tab

    assert response.status_code == 302 and response["Location"] == existing
    assert written() == before
    html = curator_client.get(existing).content.decode()
    assert "identical to v1 of &#x27;queue-consumer-review&#x27;" in html
    assert "no new version was made" in html


def test_an_unchanged_draft_can_be_published_from_the_preview(curator_client, curator):
    services.checklist_import(actor=curator, data=DOC, source_name="queue.md")
    page = preview(curator_client)
    assert "Publish v1" in page.content.decode()

    response = confirm(curator_client, page, "publish")

    assert response.status_code == 302
    version = TemplateVersion.objects.get()
    assert version.status == VersionStatus.PUBLISHED
    message = curator_client.get(response["Location"]).content.decode()
    assert "no new version was made. Published v1" in message


def test_a_changed_document_replaces_the_open_draft(curator_client, curator):
    earlier = DOC.replace(b"- Is the batch size configurable?\n", b"")
    services.checklist_import(actor=curator, data=earlier, source_name="queue.md")
    page = preview(curator_client)
    assert "Replaces the content of draft v1 of &#x27;queue-consumer-review&#x27;." in (
        page.content.decode()
    )

    response = confirm(curator_client, page, "draft")

    version = TemplateVersion.objects.get()
    assert (version.number, version.status, version.items.count()) == (1, "draft", 6)
    assert Event.objects.filter(verb="checklist.imported").count() == 2
    html = curator_client.get(response["Location"]).content.decode()
    assert "replaced the content of draft v1" in html


def test_a_changed_slug_is_previewed_again_before_anything_is_written(curator_client):
    page = preview(curator_client)

    response = confirm(curator_client, page, "publish", slug="queue-v2")

    assert response.status_code == 200
    assert not ChecklistTemplate.objects.exists()
    assert response.context["slug"] == "queue-v2"
    assert response.context["form"]["previewed_slug"].value() == "queue-v2"
    assert "Creates the checklist &#x27;queue-v2&#x27;" in response.content.decode()

    confirm(curator_client, response, "draft")
    assert ChecklistTemplate.objects.get().slug == "queue-v2"


def test_an_invalid_slug_on_the_preview_is_shown_at_the_field(curator_client):
    page = preview(curator_client)
    response = confirm(curator_client, page, "draft", slug="no spaces")
    assert response.status_code == 400
    assert "slug" in response.context["form"].errors
    assert not ChecklistTemplate.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("", id="missing"),
        pytest.param("not-a-signed-value", id="garbage"),
        pytest.param("tampered", id="tampered"),
    ],
)
def test_an_altered_or_missing_document_is_refused(curator_client, payload):
    if payload == "tampered":  # a document signed for something else, or altered
        payload = signing.dumps({"name": "queue.md", "data": "AAAA"}, salt="elsewhere")
    before = written()
    response = curator_client.post(
        CONFIRM_URL,
        {"payload": payload, "slug": "queue", "previewed_slug": "queue", "action": "draft"},
    )
    assert response.status_code == 400
    assert "upload the file again" in response.content.decode()
    assert written() == before


# --- bad input ------------------------------------------------------------------------------

LIMIT = 2 * 1024 * 1024
BIG = b"- item\n" * (LIMIT // 7 + 1)  # one line over the limit


@pytest.mark.parametrize(
    "data,message",
    [
        pytest.param(b"", "bad.md: the file is empty.", id="empty"),
        pytest.param(b"   \n\n  \n", "bad.md: the file is empty.", id="blank"),
        pytest.param(
            b"# T\n\x00\x01\x02\x03 binary", "bad.md, line 2: the file looks binary", id="binary"
        ),
        pytest.param(
            b"# T\n\n- caf\xe9 au lait\n",
            "bad.md, line 3: the file is not valid UTF-8",
            id="not-utf8",
        ),
        pytest.param(
            BIG,
            f"bad.md: the file is {len(BIG):,} bytes; the limit is {LIMIT:,} bytes (2 MB).",
            id="too-big",
        ),
        pytest.param(
            b"# Title\n\nJust prose, no list.\n", "bad.md: no checklist items found", id="no-items"
        ),
    ],
)
def test_bad_files_are_refused_at_the_field(curator_client, data, message):
    before = written()

    response = preview(curator_client, data, name="bad.md", slug="kept-slug")

    assert response.status_code == 400
    form = response.context["form"]
    assert any(error.startswith(message) for error in form.errors["file"]), form.errors
    html = response.content.decode()
    assert 'id="id_file_error"' in html  # shown at the file field
    assert 'value="kept-slug"' in html  # what was entered is kept
    assert written() == before


def test_bad_pasted_text_is_refused_at_its_field_and_kept(curator_client):
    text = "# Only a title\n\nSome <prose> and no items.\n"
    response = curator_client.post(IMPORT_URL, {"text": text, "slug": "kept"})
    assert response.status_code == 400
    errors = response.context["form"].errors["text"]
    assert errors[0].startswith("pasted text: no checklist items found")
    html = response.content.decode()
    assert "Some &lt;prose&gt; and no items." in html  # the textarea keeps it, escaped
    assert 'id="id_text_error"' in html
    assert not ChecklistTemplate.objects.exists()


def test_pasted_text_over_the_limit_is_refused(curator_client):
    text = BIG.decode()
    response = curator_client.post(IMPORT_URL, {"text": text})
    assert response.status_code == 400
    assert response.context["form"].errors["text"][0].startswith("pasted text: the file is")
    assert not ChecklistTemplate.objects.exists()


def test_nothing_given_or_both_given(curator_client):
    response = curator_client.post(IMPORT_URL, {"slug": "x"})
    assert response.status_code == 400
    assert "Choose a Markdown file" in response.context["form"].errors["file"][0]
    response = curator_client.post(IMPORT_URL, {"file": upload(), "text": "- also this"})
    assert response.status_code == 400
    assert "not both" in response.context["form"].errors["text"][0]
    assert not ChecklistTemplate.objects.exists()


def test_an_invalid_slug_is_refused_at_the_slug_field(curator_client):
    response = preview(curator_client, slug="has spaces")
    assert response.status_code == 400
    assert "slug" in response.context["form"].errors
    assert not ChecklistTemplate.objects.exists()
