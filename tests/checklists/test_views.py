import re

import pytest
from django.urls import reverse

from checklists import services
from checklists.models import Item, VersionStatus
from tests.accounts.factories import UserFactory
from tests.checklists.factories import SEED_FILES, ChecklistTemplateFactory, build_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def version_url(version):
    return reverse("checklists:version", args=[version.template.slug, version.number])


def compare_url(template, old, new):
    return reverse("checklists:compare", args=[template.slug]) + f"?from={old}&to={new}"


@pytest.mark.parametrize(
    "name,args",
    [
        ("checklists:library", []),
        ("checklists:template", ["x"]),
        ("checklists:version", ["x", 1]),
        ("checklists:compare", ["x"]),
        ("checklists:export", ["x", 1]),
    ],
)
def test_pages_require_sign_in(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_library_lists_published_templates_with_counts_and_latest_version(reader):
    template = ChecklistTemplateFactory(title="API review")
    build_version(template=template, items=1)
    build_version(template=template, sections=2, groups=1, items=3)
    hidden = build_version(status=VersionStatus.DRAFT)

    response = reader.get(reverse("checklists:library"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "API review" in html
    assert version_url(template.versions.get(number=2)) in html
    assert ">12<" in html  # item count of v2
    assert hidden.template.title not in html
    assert "css/checklists.css" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline scripts (CSP)"


def test_library_shows_drafts_to_curators_only(client, curator):
    draft = build_version(status=VersionStatus.DRAFT)
    client.force_login(UserFactory())
    assert draft.template.title not in client.get(reverse("checklists:library")).content.decode()
    client.force_login(curator)
    assert draft.template.title in client.get(reverse("checklists:library")).content.decode()


@pytest.mark.parametrize("templates", [1, 15])
def test_library_query_count_is_pinned(reader, templates, django_assert_max_num_queries):
    for _ in range(templates):
        build_version(sections=3, items=5)
    with django_assert_max_num_queries(6):
        response = reader.get(reverse("checklists:library"))
    assert response.status_code == 200


def test_version_page_shows_sections_groups_items_and_badges(reader):
    version = build_version(sections=2, groups=1, items=3)
    Item.objects.filter(version=version, key="k-1").update(
        guidance="Look at the error table.", rationale="Clients depend on it."
    )

    response = reader.get(version_url(version))

    html = response.content.decode()
    assert response.status_code == 200
    for title in ("Section 1", "Section 2", "Group 1.1", "Group 2.1"):
        assert title in html
    assert all(f"Item {n}" in html for n in range(1, 13))
    assert "<details" in html and "Look at the error table." in html
    assert "Clients depend on it." in html
    assert 'class="badge badge-gate"' in html
    assert "sev-must" in html and "sev-could" in html
    assert reverse("checklists:export", args=[version.template.slug, 1]) in html


def test_template_page_redirects_to_the_latest_published_version(reader):
    template = ChecklistTemplateFactory()
    build_version(template=template)
    build_version(template=template)
    build_version(template=template, status=VersionStatus.DRAFT)
    response = reader.get(reverse("checklists:template", args=[template.slug]))
    assert response.status_code == 302
    assert response["Location"] == version_url(template.versions.get(number=2))


@pytest.mark.parametrize("sections,items", [(1, 2), (12, 12)])
def test_version_page_query_count_is_pinned(reader, sections, items, django_assert_max_num_queries):
    version = build_version(sections=sections, groups=2, items=items)
    with django_assert_max_num_queries(8):
        response = reader.get(version_url(version))
    assert response.status_code == 200


def test_seed_version_pages_render_with_few_queries(reader, curator, django_assert_max_num_queries):
    for path in SEED_FILES:
        result = services.checklist_import(
            actor=curator, data=path.read_bytes(), source_name=path.name, publish=True
        )
        with django_assert_max_num_queries(8):
            response = reader.get(version_url(result.version))
        assert response.status_code == 200
        first = result.version.items.order_by("position").first()
        assert first.key in response.content.decode()


def test_drafts_are_404_for_non_curators_and_visible_to_curators(client, curator):
    draft = build_version(status=VersionStatus.DRAFT)
    client.force_login(UserFactory())
    for url in (
        version_url(draft),
        reverse("checklists:export", args=[draft.template.slug, 1]),
        reverse("checklists:template", args=[draft.template.slug]),
        compare_url(draft.template, 1, 1),
    ):
        assert client.get(url).status_code == 404, url
    client.force_login(curator)
    response = client.get(version_url(draft))
    assert response.status_code == 200
    assert "visible to curators only" in response.content.decode()


def test_retired_versions_stay_readable(reader):
    version = build_version(status=VersionStatus.RETIRED)
    response = reader.get(version_url(version))
    assert response.status_code == 200
    assert "retired" in response.content.decode()


def test_unknown_checklist_or_version_is_404(reader):
    version = build_version()
    assert reader.get(reverse("checklists:version", args=["nope", 1])).status_code == 404
    assert (
        reader.get(reverse("checklists:version", args=[version.template.slug, 7])).status_code
        == 404
    )
    assert reader.get(compare_url(version.template, 1, 9)).status_code == 404


def test_compare_page_shows_added_removed_and_changed(reader):
    old = build_version(sections=1, groups=0, items=3)
    new = build_version(template=old.template, sections=1, groups=0, items=3)
    Item.objects.filter(version=new, key="k-1").delete()
    Item.objects.filter(version=new, key="k-2").update(text="Item 2, clearer")
    Item.objects.filter(version=new, key="k-3").update(key="k-9", text="Brand new item")

    response = reader.get(compare_url(old.template, 1, 2))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Added in v2" in html and "Brand new item" in html
    assert "Removed since v1" in html and "Item 1" in html
    assert "Changed" in html and "Item 2, clearer" in html
    assert response.context["comparison"].changed[0].fields == ["text"]


def test_compare_defaults_to_the_latest_against_the_one_before(reader):
    old = build_version()
    build_version(template=old.template)
    response = reader.get(reverse("checklists:compare", args=[old.template.slug]))
    assert response.status_code == 200
    assert (response.context["old"].number, response.context["new"].number) == (1, 2)
    assert reader.get(compare_url(old.template, "x", "y")).status_code == 200


def test_download_markdown(reader, curator):
    result = services.checklist_import(
        actor=curator, data=SEED_FILES[0].read_bytes(), source_name=SEED_FILES[0].name, publish=True
    )
    response = reader.get(reverse("checklists:export", args=[result.template.slug, 1]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert f'filename="{result.template.slug}-v1.md"' in response["Content-Disposition"]
    first = result.version.items.order_by("position").first()
    assert first.text.split()[0] in response.content.decode()


def test_pages_refuse_writes(reader):
    version = build_version()
    assert reader.post(version_url(version)).status_code == 405
