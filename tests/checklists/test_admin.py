import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import CheckboxInput
from django.urls import reverse

from audit.models import Event
from checklists import services
from checklists.forms import pack_upload
from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion, VersionStatus
from tests.accounts.factories import UserFactory
from tests.checklists.factories import SEED_FILES, SMALL_DOC, build_version

pytestmark = pytest.mark.django_db

IMPORT_URL = "admin:checklists_checklisttemplate_import"


def admin_url(name, *args):
    return reverse(f"admin:checklists_templateversion_{name}", args=args)


@pytest.fixture
def staff_curator(curator):
    curator.is_staff = True
    curator.save()
    return curator


@pytest.fixture
def admin_client(client, staff_curator):
    client.force_login(staff_curator)
    return client


def form_data(response) -> dict:
    """POST data that re-submits the change form (and its inlines) as rendered."""
    data = {}

    def add(form):
        for field in form:
            value = field.value()
            if isinstance(field.field.widget, CheckboxInput):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def items_formset(response):
    (formset,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is Item
    ]
    return formset


def upload(name, content):
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, raw, content_type="text/markdown")


# --- who may enter --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:checklists_checklisttemplate_changelist"),
        reverse("admin:checklists_templateversion_changelist"),
        reverse(IMPORT_URL),
    ],
)
def test_staff_without_the_curator_group_cannot_reach_the_library(client, url):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "Checklist templates" not in index


def test_curators_and_superusers_see_the_library(admin_client, client, superuser):
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "Checklist templates" in index and "Template versions" in index
    client.force_login(superuser)
    assert client.get(reverse(IMPORT_URL)).status_code == 200


def test_non_curators_cannot_import_through_the_admin(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.post(reverse(IMPORT_URL), {"file": upload("a.md", SMALL_DOC)})
    assert response.status_code == 403
    assert not ChecklistTemplate.objects.exists()


# --- the full curation cycle ----------------------------------------------------------------


def test_full_curation_cycle(admin_client, staff_curator):
    # Import: upload → preview (nothing written yet) → confirm.
    response = admin_client.get(reverse(IMPORT_URL))
    assert response.status_code == 200
    response = admin_client.post(
        reverse(IMPORT_URL), {"step": "preview", "file": upload("small.md", SMALL_DOC)}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Are error bodies specified?" in html
    assert "Contracts" in html and "badge-gate" in html
    assert "7 items" in html and "Confirm import" in html
    assert "Creates the checklist" in html
    assert not ChecklistTemplate.objects.exists()
    confirm = response.context["form"].initial
    response = admin_client.post(
        reverse(IMPORT_URL),
        {
            "step": "confirm",
            "payload": confirm["payload"],
            "slug": confirm["slug"],
            "changelog": "",
        },
    )
    v1 = TemplateVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == admin_url("change", v1.pk)
    assert (v1.status, v1.items.count()) == (VersionStatus.DRAFT, 7)

    # Publish with a changelog (an intermediate form page).
    assert "changelog" in admin_client.get(admin_url("publish", v1.pk)).content.decode()
    response = admin_client.post(admin_url("publish", v1.pk), {"changelog": "First release"})
    assert response.status_code == 302
    v1.refresh_from_db()
    assert (v1.status, v1.changelog, v1.published_by) == (
        "published",
        "First release",
        staff_curator,
    )

    # Published: read-only in the admin.
    page = admin_client.get(admin_url("change", v1.pk))
    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()
    assert "cannot be changed" in page.content.decode()
    assert admin_client.post(admin_url("change", v1.pk), {"title": "x"}).status_code == 403

    # New draft from it, then edit one item through the inline.
    response = admin_client.post(admin_url("new_draft", v1.pk))
    v2 = TemplateVersion.objects.get(number=2)
    assert response["Location"] == admin_url("change", v2.pk)
    assert v2.status == VersionStatus.DRAFT
    page = admin_client.get(admin_url("change", v2.pk))
    data = form_data(page)
    item = v2.items.get(text="Are error bodies specified?")
    prefix = next(
        name.rsplit("-", 1)[0]
        for name, value in data.items()
        if name.endswith("-id") and str(value) == str(item.pk)
    )
    data[f"{prefix}-text"] = "Are error bodies specified for every 4xx and 5xx?"
    data[f"{prefix}-severity"] = "must"
    data["_continue"] = "Save"
    response = admin_client.post(admin_url("change", v2.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    item.refresh_from_db()
    assert (item.text, item.severity) == (
        "Are error bodies specified for every 4xx and 5xx?",
        "must",
    )
    assert Event.objects.filter(verb="checklist.item_saved").count() == 1
    assert v1.items.get(key=item.key).text == "Are error bodies specified?"

    # Publish v2, compare with v1, retire v1.
    admin_client.post(admin_url("publish", v2.pk), {"changelog": "Sharper error item"})
    v2.refresh_from_db()
    assert v2.status == VersionStatus.PUBLISHED
    page = admin_client.get(admin_url("compare", v2.pk) + f"?with={v1.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "0</strong> added" in html and "1</strong> changed" in html
    assert "for every 4xx and 5xx" in html
    assert page.context["comparison"].changed[0].fields == ["text", "severity"]
    admin_client.post(admin_url("retire", v1.pk))
    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED

    verbs = list(Event.objects.values_list("verb", flat=True))
    assert verbs == [
        "checklist.imported",
        "checklist.published",
        "checklist.draft_created",
        "checklist.item_saved",
        "checklist.published",
        "checklist.retired",
    ]


def test_import_with_publish_and_the_slug_given(admin_client):
    response = admin_client.post(
        reverse(IMPORT_URL),
        {"step": "preview", "file": upload("small.md", SMALL_DOC), "slug": "api", "publish": "on"},
    )
    initial = response.context["form"].initial
    admin_client.post(
        reverse(IMPORT_URL),
        {
            "step": "confirm",
            "payload": initial["payload"],
            "slug": initial["slug"],
            "publish": "True",
            "changelog": "v1",
        },
    )
    version = TemplateVersion.objects.get(template__slug="api")
    assert (version.status, version.changelog) == (VersionStatus.PUBLISHED, "v1")


def test_preview_of_an_identical_document_offers_no_confirmation(admin_client, staff_curator):
    services.checklist_import(actor=staff_curator, data=SMALL_DOC, source_name="small.md")
    response = admin_client.post(
        reverse(IMPORT_URL), {"step": "preview", "file": upload("small.md", SMALL_DOC)}
    )
    html = response.content.decode()
    assert "nothing will be written" in html
    assert "Confirm import" not in html


def test_a_bad_upload_shows_the_error_naming_the_file(admin_client):
    response = admin_client.post(
        reverse(IMPORT_URL), {"step": "preview", "file": upload("notes.bin", b"\x00\xff" * 300)}
    )
    assert response.status_code == 200
    assert "notes.bin" in response.content.decode()
    assert response.context["form"].errors
    assert not ChecklistTemplate.objects.exists()


def test_a_tampered_confirmation_writes_nothing(admin_client):
    payload = pack_upload(SMALL_DOC.encode(), "small.md")
    response = admin_client.post(
        reverse(IMPORT_URL),
        {"step": "confirm", "payload": payload[:-3] + "abc", "slug": "small"},
    )
    assert response.status_code == 200
    assert "upload the file again" in response.content.decode()
    assert not ChecklistTemplate.objects.exists()


# --- refusals and read-only versions --------------------------------------------------------


@pytest.mark.parametrize("status", [VersionStatus.PUBLISHED, VersionStatus.RETIRED])
def test_published_and_retired_versions_are_read_only(admin_client, status):
    version = build_version(status=status, sections=1, groups=0, items=2)
    page = admin_client.get(admin_url("change", version.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="items-0-text"' not in html and "Item 1" in html
    assert not any(inline.has_add_permission for inline in page.context["inline_admin_formsets"])
    assert admin_client.post(admin_url("change", version.pk), {}).status_code == 403
    assert admin_client.post(admin_url("delete", version.pk), {"post": "yes"}).status_code == 403
    assert TemplateVersion.objects.filter(pk=version.pk).exists()


def test_refused_transitions_explain_why(admin_client):
    version = build_version(status=VersionStatus.DRAFT)
    page = admin_client.get(admin_url("retire", version.pk))
    assert "not possible" in page.content.decode()
    response = admin_client.post(admin_url("retire", version.pk))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("only a published version" in m for m in messages)


def test_export_downloads_markdown(admin_client, staff_curator):
    result = services.checklist_import(actor=staff_curator, data=SMALL_DOC, source_name="s.md")
    response = admin_client.get(admin_url("export", result.version.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="small-api-checklist-v1.md"'
    assert "Are error bodies specified?" in response.content.decode()


def test_changelist_actions(admin_client, staff_curator):
    v1 = build_version()
    v2 = build_version(template=v1.template)
    changelist = admin_url("changelist")
    response = admin_client.post(
        changelist, {"action": "compare_action", "_selected_action": [v1.pk, v2.pk]}
    )
    assert response["Location"] == admin_url("compare", v2.pk) + f"?with={v1.pk}"
    response = admin_client.post(
        changelist, {"action": "publish_action", "_selected_action": [v1.pk, v2.pk]}
    )
    assert (
        response.status_code == 302 and TemplateVersion.objects.filter(status="draft").count() == 0
    )
    response = admin_client.post(
        changelist, {"action": "new_draft_action", "_selected_action": [v1.pk]}
    )
    assert response["Location"] == admin_url("new_draft", v1.pk)
    response = admin_client.post(
        changelist, {"action": "export_action", "_selected_action": [v2.pk]}
    )
    assert response["Content-Type"].startswith("text/markdown")


def test_discarding_a_draft_uses_the_service(admin_client, staff_curator):
    published = build_version()
    draft = services.version_new_draft(actor=staff_curator, template=published.template)
    response = admin_client.post(admin_url("delete", draft.pk), {"post": "yes"})
    assert response.status_code == 302
    assert list(TemplateVersion.objects.all()) == [published]
    assert Event.objects.filter(verb="checklist.draft_discarded").exists()


def test_new_template_in_the_admin_starts_an_empty_draft(admin_client):
    response = admin_client.post(
        reverse("admin:checklists_checklisttemplate_add"),
        {"slug": "handmade", "title": "Handmade", "description": ""},
    )
    assert response.status_code == 302
    template = ChecklistTemplate.objects.get(slug="handmade")
    assert list(template.versions.values_list("number", "status")) == [(1, "draft")]
    assert Event.objects.get().verb == "checklist.template_created"


def test_editing_a_template_title_uses_the_service(admin_client):
    version = build_version()
    url = reverse("admin:checklists_checklisttemplate_change", args=[version.template.pk])
    page = admin_client.get(url)
    assert "v1" in page.content.decode()
    data = form_data(page)
    data["title"] = "Renamed"
    assert admin_client.post(url, data).status_code == 302
    version.template.refresh_from_db()
    assert version.template.title == "Renamed"
    assert Event.objects.get().verb == "checklist.template_updated"


def test_a_large_draft_is_edited_one_section_at_a_time(admin_client, staff_curator):
    path = max(SEED_FILES, key=lambda p: p.stat().st_size)
    result = services.checklist_import(
        actor=staff_curator, data=path.read_bytes(), source_name=path.name
    )
    draft = result.version
    page = admin_client.get(admin_url("change", draft.pk))
    assert page.status_code == 200
    item_formset = items_formset(page)
    assert len(item_formset.initial_forms) == 0
    section = Section.objects.filter(version=draft, parent=None).first()
    page = admin_client.get(admin_url("change", draft.pk) + f"?section={section.pk}")
    item_formset = items_formset(page)
    assert [i.formset.model for i in page.context["inline_admin_formsets"]] == [Item]
    expected = Item.objects.filter(version=draft).filter(
        section__in=[section, *section.groups.all()]
    )
    assert len(item_formset.initial_forms) == expected.count()

    data = form_data(page)
    first = expected.order_by("position").first()
    prefix = next(k[: -len("-id")] for k, v in data.items() if k.endswith("-id") and v == first.pk)
    data[f"{prefix}-is_gate"] = "on"
    data["_continue"] = "Save and continue editing"
    total = draft.items.count()
    response = admin_client.post(admin_url("change", draft.pk) + f"?section={section.pk}", data)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?section={section.pk}#items-tab")
    first.refresh_from_db()
    assert first.is_gate is True
    assert draft.items.count() == total
    assert Event.objects.filter(verb="checklist.item_saved").count() == 1


def test_an_empty_file_is_refused_with_its_name(admin_client):
    response = admin_client.post(
        reverse(IMPORT_URL), {"step": "preview", "file": upload("blank-checklist.md", b"")}
    )
    html = response.content.decode()
    assert "blank-checklist.md" in html
    assert "empty" in html.lower()
    assert not TemplateVersion.objects.exists()
