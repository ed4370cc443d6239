import pytest
from django.contrib.auth.models import AnonymousUser

from checklists import selectors, services
from checklists.models import Item, VersionStatus
from tests.accounts.factories import UserFactory
from tests.checklists.factories import (
    SMALL_DOC,
    ChecklistTemplateFactory,
    build_version,
)

pytestmark = pytest.mark.django_db


def test_published_templates_lists_the_latest_published_version_with_counts():
    template = ChecklistTemplateFactory(title="Alpha")
    build_version(template=template, sections=1, groups=0, items=2)
    latest = build_version(template=template, sections=2, groups=1, items=3)
    build_version(template=template, status=VersionStatus.DRAFT, items=9)
    build_version(status=VersionStatus.DRAFT)  # draft only: not in the library
    build_version(status=VersionStatus.RETIRED)  # retired only: not in the library

    (row,) = selectors.published_templates()

    assert row == template
    assert (row.latest_id, row.latest_number) == (latest.pk, 2)
    assert row.item_count == 12
    assert row.gate_count == latest.items.filter(is_gate=True).count()
    assert row.must_count == latest.items.filter(severity="must").count()


@pytest.mark.parametrize("templates", [1, 12])
def test_published_templates_is_one_query(templates, django_assert_num_queries):
    for _ in range(templates):
        build_version(sections=2, items=4)
    with django_assert_num_queries(1):
        rows = list(selectors.published_templates())
    assert len(rows) == templates
    assert all(row.item_count == 16 for row in rows)


@pytest.mark.parametrize("size", [1, 10])
def test_version_tree_is_two_queries_and_in_document_order(size, django_assert_num_queries):
    version = build_version(sections=size, groups=2, items=size)
    with django_assert_num_queries(2):
        tree = selectors.version_tree(version)
        texts = [item.text for item in tree.items]
        titles = [item.section.title for item in tree.items]
    assert texts == [f"Item {n}" for n in range(1, len(texts) + 1)]
    assert len(tree.sections) == size
    assert all(len(node.groups) == 2 for node in tree.sections)
    assert titles[0] == "Section 1"
    summary = tree.summary()
    assert summary["items"] == size * 3 * size
    assert summary["groups"] == size * 2


def test_versions_visible_to_each_kind_of_user(curator):
    draft = build_version(status=VersionStatus.DRAFT)
    published = build_version()
    retired = build_version(status=VersionStatus.RETIRED)
    everyone = {published, retired}

    assert set(selectors.versions_visible_to(AnonymousUser())) == set()
    assert set(selectors.versions_visible_to(UserFactory())) == everyone
    assert set(selectors.versions_visible_to(UserFactory(is_active=False))) == set()
    assert set(selectors.versions_visible_to(curator)) == everyone | {draft}
    assert draft.template not in selectors.templates_visible_to(UserFactory())
    assert draft.template in selectors.templates_visible_to(curator)


def _change(version, key, **fields):
    Item.objects.filter(version=version, key=key).update(**fields)


def test_version_compare_matches_items_by_key():
    old = build_version(sections=1, groups=1, items=3)
    new = build_version(template=old.template, sections=1, groups=1, items=3)
    Item.objects.filter(version=new, key="k-1").delete()  # removed
    Item.objects.filter(version=new, key="k-6").update(key="k-new")  # removed k-6, added k-new
    _change(new, "k-2", text="Item 2, reworded", severity="must")
    _change(new, "k-3", is_gate=True, optional=True, guidance="More", rationale="Why")
    group = new.sections.get(parent__isnull=False)
    Item.objects.filter(version=new, key="k-4").update(section=new.sections.get(parent=None))
    assert group  # k-4 moved out of its group into the top section

    comparison = selectors.version_compare(old, new)

    assert [item.key for item in comparison.added] == ["k-new"]
    assert [item.key for item in comparison.removed] == ["k-1", "k-6"]
    changed = {change.key: change.fields for change in comparison.changed}
    old_k3 = old.items.get(key="k-3")
    expected_k3 = [
        name
        for name, value in [
            ("guidance", "More"),
            ("rationale", "Why"),
            ("is_gate", True),
            ("optional", True),
        ]
        if getattr(old_k3, name) != value
    ]
    assert changed == {"k-2": ["text", "severity"], "k-3": expected_k3}
    assert [(m.new.key, m.old_section, m.new_section) for m in comparison.moved] == [
        ("k-4", "Section 1 › Group 1.1", "Section 1")
    ]
    assert comparison.unchanged == 1  # k-5
    assert comparison.has_changes


def test_comparing_a_version_with_itself_finds_nothing():
    version = build_version()
    comparison = selectors.version_compare(version, version)
    assert not comparison.has_changes
    assert comparison.unchanged == version.items.count()


def test_version_compare_is_a_constant_number_of_queries(django_assert_num_queries):
    old = build_version(sections=8, groups=2, items=8)
    new = build_version(template=old.template, sections=8, groups=2, items=8)
    with django_assert_num_queries(2):
        selectors.version_compare(old, new)


def test_import_plan_describes_what_an_import_would_do(curator):
    tree_hash = "abc"
    assert "Creates" in selectors.import_plan(slug="new", content_hash=tree_hash).description
    result = services.checklist_import(actor=curator, data=SMALL_DOC, source_name="s.md")
    same = selectors.import_plan(
        slug=result.template.slug, content_hash=result.version.content_hash
    )
    assert same.same == result.version and "nothing will be written" in same.description
    replace = selectors.import_plan(slug=result.template.slug, content_hash=tree_hash)
    assert replace.draft == result.version and "Replaces" in replace.description
    services.version_publish(actor=curator, version=result.version)
    adds = selectors.import_plan(slug=result.template.slug, content_hash=tree_hash)
    assert adds.number == 2 and "Adds draft v2" in adds.description


def test_latest_published_ignores_drafts_and_retired():
    template = ChecklistTemplateFactory()
    first = build_version(template=template)
    build_version(template=template, status=VersionStatus.RETIRED)
    build_version(template=template, status=VersionStatus.DRAFT)
    assert selectors.latest_published(template) == first
