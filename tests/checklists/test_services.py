import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.text import slugify

from audit.models import Event
from checklists import services
from checklists.importer import parse_document
from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion, VersionStatus
from checklists.parsed import ParsedChecklist, ParsedItem, ParsedSection
from checklists.selectors import version_tree
from config.errors import Conflict, Forbidden, InvalidInput
from tests.accounts.factories import UserFactory
from tests.checklists.factories import (
    SEED_FILES,
    SMALL_DOC,
    ChecklistTemplateFactory,
    build_version,
)

pytestmark = pytest.mark.django_db

MODELS = (ChecklistTemplate, TemplateVersion, Section, Item, Event)


def row_counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def saved_structure(version) -> list:
    """The saved tree as plain data, comparable with ``parsed_structure``."""
    tree = version_tree(version)

    def items(rows):
        return [(i.text, i.guidance, i.rationale, i.severity, i.is_gate, i.optional) for i in rows]

    return [
        (
            node.title,
            items(node.items),
            [(group.title, items(group.items)) for group in node.groups],
        )
        for node in tree.sections
    ]


def parsed_structure(tree: ParsedChecklist) -> list:
    def items(rows):
        return [(i.text, i.guidance, i.rationale, i.severity, i.is_gate, i.optional) for i in rows]

    return [
        (
            section.title,
            items(section.items),
            [(group.title, items(group.items)) for group in section.groups],
        )
        for section in tree.sections
    ]


def small_import(actor, **kwargs):
    return services.checklist_import(actor=actor, data=SMALL_DOC, source_name="small.md", **kwargs)


# --- import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_each_seed_imports_with_the_parsed_structure(curator, path):
    raw = path.read_bytes()
    result = services.checklist_import(actor=curator, data=raw, source_name=path.name)

    tree = parse_document(raw, source_name=path.name)
    assert result.created is True
    assert result.version.status == VersionStatus.DRAFT
    assert result.version.number == 1
    assert result.version.content_hash == tree.content_hash
    assert saved_structure(result.version) == parsed_structure(tree)
    keys = list(result.version.items.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == len(tree.all_items())
    assert all(re.fullmatch(r"[-a-zA-Z0-9_]+", key) and len(key) <= 80 for key in keys)
    event = Event.objects.get(verb="checklist.imported")
    assert event.actor == curator
    assert event.object_id == result.version.pk
    assert event.after["items"] == len(keys)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_reimporting_an_unchanged_seed_writes_nothing(curator, path):
    first = services.checklist_import(actor=curator, data=path.read_bytes(), source_name=path.name)
    before = row_counts()

    again = services.checklist_import(actor=curator, data=path.read_bytes(), source_name=path.name)

    assert again.created is False
    assert again.version.pk == first.version.pk
    assert row_counts() == before


def test_reimporting_after_publishing_returns_the_published_version(curator):
    first = small_import(curator, publish=True)
    before = row_counts()

    again = small_import(curator)

    assert (again.created, again.version.pk) == (False, first.version.pk)
    assert again.version.status == VersionStatus.PUBLISHED
    assert row_counts() == before


def test_a_changed_document_becomes_a_new_draft_that_keeps_keys(curator):
    v1 = small_import(curator, publish=True).version
    old_keys = dict(v1.items.values_list("text", "key"))
    changed = (
        SMALL_DOC.replace("Are error bodies specified?", "Are error bodies specified for 4xx?")
        .replace("- Is the versioning strategy specified?\n", "")
        .replace(
            "- Is every input validated at the boundary?\n",
            "- IS EVERY INPUT   validated at the boundary?\n- Are tokens rotated?\n",
        )
    )

    result = services.checklist_import(actor=curator, data=changed, source_name="small.md")

    v2 = result.version
    assert (result.created, v2.number, v2.status) == (True, 2, VersionStatus.DRAFT)
    new_keys = dict(v2.items.values_list("text", "key"))
    for text in (
        "Are secrets kept out of the repository?",
        "Are all endpoints documented with method and path?",
        "Does the spec name an owner?",
    ):
        assert new_keys[text] == old_keys[text]
    # Case and whitespace do not change an item's meaning.
    assert (
        new_keys["IS EVERY INPUT validated at the boundary?"]
        == old_keys["Is every input validated at the boundary?"]
    )
    # A reworded item and a new item get new keys that no earlier item used.
    assert new_keys["Are error bodies specified for 4xx?"] not in old_keys.values()
    assert new_keys["Are tokens rotated?"] not in old_keys.values()
    v1.refresh_from_db()
    assert v1.status == VersionStatus.PUBLISHED
    assert v1.items.count() == 7


def test_importing_over_a_draft_replaces_its_content(curator):
    first = small_import(curator).version
    old_keys = dict(first.items.values_list("text", "key"))
    changed = SMALL_DOC.replace("- Are error bodies specified?\n", "")

    result = services.checklist_import(actor=curator, data=changed, source_name="small.md")

    assert result.created and result.replaced_draft
    assert result.version.pk == first.pk
    assert result.version.number == 1
    assert TemplateVersion.objects.count() == 1
    new_keys = dict(result.version.items.values_list("text", "key"))
    assert "Are error bodies specified?" not in new_keys
    assert all(old_keys[text] == key for text, key in new_keys.items())
    event = Event.objects.filter(verb="checklist.imported").last()
    assert event.before["items"] == 7
    assert event.after["items"] == 6


def test_publish_true_publishes_in_the_same_call(curator):
    result = small_import(curator, publish=True, changelog="First release")
    version = result.version
    assert version.status == VersionStatus.PUBLISHED
    assert version.changelog == "First release"
    assert version.published_by == curator
    verbs = list(Event.objects.values_list("verb", flat=True))
    assert verbs == ["checklist.imported", "checklist.published"]


def test_publish_true_on_an_identical_draft_publishes_it(curator):
    draft = small_import(curator).version
    again = small_import(curator, publish=True)
    assert (again.created, again.version.pk) == (False, draft.pk)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED


def test_slug_defaults_to_the_title_and_can_be_given(curator):
    assert small_import(curator).template.slug == "small-api-checklist"
    assert small_import(curator, slug="api-basics").template.slug == "api-basics"


def test_slug_falls_back_to_the_file_stem(curator):
    result = services.checklist_import(
        actor=curator, data="## Checks\n\n- Is it tested?\n", source_name="team_checks.md"
    )
    assert result.template.slug in {"team_checks", "checks"}


@pytest.mark.parametrize("slug", ["has space", "ümlaut!", "x" * 101])
def test_an_invalid_slug_is_refused_and_nothing_written(curator, slug):
    before = row_counts()
    with pytest.raises(InvalidInput, match="slug"):
        small_import(curator, slug=slug)
    assert row_counts() == before


@pytest.mark.parametrize(
    "data", [b"", b"\x00\x01\x02\xff" * 100, "# Title only\n\nJust prose, no items.\n"]
)
def test_a_bad_document_is_refused_naming_the_file_and_nothing_written(curator, data):
    before = row_counts()
    with pytest.raises(InvalidInput, match="broken.md"):
        services.checklist_import(actor=curator, data=data, source_name="broken.md")
    assert row_counts() == before


def test_an_oversized_document_is_refused(curator, settings):
    data = SMALL_DOC + "\n".join(f"- Is thing {n} done?" for n in range(120_000))
    assert len(data.encode()) > settings.SPECGATE_IMPORT_MAX_BYTES
    with pytest.raises(InvalidInput):
        services.checklist_import(actor=curator, data=data, source_name="huge.md")
    assert not ChecklistTemplate.objects.exists()


# --- stable keys ----------------------------------------------------------------------------


def _tree(*sections: tuple[str, list[ParsedItem]]) -> ParsedChecklist:
    return ParsedChecklist(
        title="T",
        description="",
        sections=[ParsedSection(title=title, items=items) for title, items in sections],
        source_name="doc.md",
        content_hash="h",
    )


def test_new_keys_are_a_slug_of_the_text_plus_a_short_hash():
    text = "Are all endpoints documented with HTTP method, path, and every status code?"
    (key,) = services.assign_keys(_tree(("S", [ParsedItem(text=text)])), [])
    prefix, digest = key.rsplit("-", 1)
    assert prefix == slugify(text)[:50].strip("-")
    assert re.fullmatch(r"[0-9a-f]{6}", digest)


def test_identical_texts_get_distinct_keys_and_keep_them_per_section():
    tree = _tree(
        ("A", [ParsedItem(text="Is it logged?")]), ("B", [ParsedItem(text="Is it logged?")])
    )
    first = services.assign_keys(tree, [])
    assert first[0] != first[1]
    previous = [(first[0], "Is it logged?", "A", ""), (first[1], "Is it logged?", "B", "")]
    swapped = _tree(
        ("B", [ParsedItem(text="is it LOGGED?")]), ("A", [ParsedItem(text="Is it logged?")])
    )
    assert services.assign_keys(swapped, previous) == [first[1], first[0]]


def test_explicit_keys_win_over_carried_and_new_keys():
    previous = [("old-key", "Is it tested?", "S", "")]
    tree = _tree(
        ("S", [ParsedItem(text="Is it tested?", key="chosen"), ParsedItem(text="Is it fast?")])
    )
    keys = services.assign_keys(tree, previous)
    assert keys[0] == "chosen"
    assert keys[1] not in {"chosen", "old-key"}


def test_a_duplicate_explicit_key_is_refused_naming_both_lines():
    tree = _tree(
        ("S", [ParsedItem(text="A?", key="dup", line=4), ParsedItem(text="B?", key="dup", line=9)])
    )
    with pytest.raises(InvalidInput, match=r"doc\.md, line 9.*line 4"):
        services.assign_keys(tree, [])


# --- transitions ----------------------------------------------------------------------------


def test_publish_a_draft(curator):
    draft = small_import(curator).version
    services.version_publish(actor=curator, version=draft, changelog="Initial")
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.published_at is not None and draft.published_by == curator
    assert draft.changelog == "Initial"
    event = Event.objects.get(verb="checklist.published")
    assert (event.before["status"], event.after["status"]) == ("draft", "published")


@pytest.mark.parametrize("status", [VersionStatus.PUBLISHED, VersionStatus.RETIRED])
def test_only_a_draft_can_be_published(curator, status):
    version = build_version(status=status)
    with pytest.raises(Conflict, match=status):
        services.version_publish(actor=curator, version=version)
    assert not Event.objects.exists()


def test_an_empty_draft_cannot_be_published(curator):
    template = services.template_create(actor=curator, slug="empty", title="Empty")
    draft = template.versions.get()
    with pytest.raises(Conflict, match="empty"):
        services.version_publish(actor=curator, version=draft)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_retire_a_published_version(curator):
    version = build_version()
    services.version_retire(actor=curator, version=version)
    version.refresh_from_db()
    assert version.status == VersionStatus.RETIRED
    assert Event.objects.get().verb == "checklist.retired"


@pytest.mark.parametrize("status", [VersionStatus.DRAFT, VersionStatus.RETIRED])
def test_only_a_published_version_can_be_retired(curator, status):
    version = build_version(status=status)
    with pytest.raises(Conflict, match=status):
        services.version_retire(actor=curator, version=version)


def test_new_draft_copies_the_latest_version_with_the_same_keys(curator):
    v1 = build_version(sections=2, groups=2, items=2)
    draft = services.version_new_draft(actor=curator, template=v1.template)
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert saved_structure(draft) == saved_structure(v1)
    assert list(draft.items.values_list("key", flat=True)) == list(
        v1.items.values_list("key", flat=True)
    )
    groups = draft.sections.filter(parent__isnull=False)
    assert groups.count() == 4
    assert all(group.parent.version_id == draft.pk for group in groups)
    assert Event.objects.get().verb == "checklist.draft_created"


def test_new_draft_from_a_given_older_version(curator):
    v1 = build_version(items=1, key_prefix="one")
    v2 = build_version(template=v1.template, items=2, key_prefix="two")
    draft = services.version_new_draft(actor=curator, template=v1.template, from_version=v1)
    assert draft.number == 3
    assert set(draft.items.values_list("key", flat=True)) == set(
        v1.items.values_list("key", flat=True)
    )
    assert v2.items.count() != draft.items.count()


def test_new_draft_is_refused_while_a_draft_exists(curator):
    v1 = build_version()
    services.version_new_draft(actor=curator, template=v1.template)
    with pytest.raises(Conflict, match="already a draft"):
        services.version_new_draft(actor=curator, template=v1.template)
    assert TemplateVersion.objects.count() == 2


def test_new_draft_refuses_a_version_of_another_template(curator):
    v1 = build_version()
    other = build_version()
    with pytest.raises(InvalidInput):
        services.version_new_draft(actor=curator, template=v1.template, from_version=other)
    assert TemplateVersion.objects.count() == 2


def test_discard_a_draft_but_never_a_published_version(curator):
    published = build_version()
    draft = services.version_new_draft(actor=curator, template=published.template)
    services.version_discard(actor=curator, version=draft)
    assert list(TemplateVersion.objects.all()) == [published]
    with pytest.raises(Conflict):
        services.version_discard(actor=curator, version=published)


# --- immutability and draft editing ---------------------------------------------------------


@pytest.mark.parametrize("status", [VersionStatus.PUBLISHED, VersionStatus.RETIRED])
def test_published_and_retired_versions_are_immutable(curator, status):
    version = build_version(status=status)
    item = version.items.first()
    section = version.sections.first()
    snapshot = saved_structure(version)

    item.text = "Changed"
    with pytest.raises(Conflict, match="only a draft"):
        services.item_save(actor=curator, item=item)
    with pytest.raises(Conflict):
        services.item_delete(actor=curator, item=item)
    section.title = "Changed"
    with pytest.raises(Conflict):
        services.section_save(actor=curator, section=section)
    with pytest.raises(Conflict):
        services.section_delete(actor=curator, section=section)
    with pytest.raises(Conflict):
        services.item_save(actor=curator, item=Item(section=section, text="New?"))
    with pytest.raises(Conflict):
        services.version_update(
            actor=curator, version=version, title="x", description="", changelog=""
        )

    assert saved_structure(version) == snapshot
    assert not Event.objects.exists()


def test_editing_a_draft(curator):
    draft = small_import(curator).version
    item = draft.items.first()
    item.text = "Are secrets kept in a vault?"
    item.severity = "must"
    services.item_save(actor=curator, item=item)

    section = draft.sections.filter(parent=None).first()
    added = services.item_save(actor=curator, item=Item(section=section, text="Is MFA enforced?"))

    assert added.version_id == draft.pk
    assert added.key.startswith("is-mfa-enforced-")
    assert added.position == draft.items.count()
    draft.refresh_from_db()
    assert draft.content_hash == ""  # no longer the imported document
    saved = Event.objects.filter(verb="checklist.item_saved")
    assert saved.count() == 2
    assert saved.first().before["text"] == "Are secrets kept out of the repository?"

    services.item_delete(actor=curator, item=added)
    assert not Item.objects.filter(pk=added.pk).exists()


def test_a_group_must_hang_under_a_top_level_section_of_the_same_draft(curator):
    draft = small_import(curator).version
    group = draft.sections.filter(parent__isnull=False).first()
    other = build_version().sections.filter(parent=None).first()
    with pytest.raises(InvalidInput):
        services.section_save(
            actor=curator, section=Section(version=draft, parent=group, title="Too deep")
        )
    with pytest.raises(InvalidInput):
        services.section_save(
            actor=curator, section=Section(version=draft, parent=other, title="Elsewhere")
        )
    new = services.section_save(
        actor=curator, section=Section(version=draft, parent=group.parent, title="Errors")
    )
    assert new.is_group and new.position > 0


def test_template_update_records_before_and_after(curator):
    template = ChecklistTemplateFactory(title="Old")
    services.template_update(actor=curator, template=template, title="New", description="D")
    template.refresh_from_db()
    assert (template.title, template.description) == ("New", "D")
    event = Event.objects.get()
    assert (event.before["title"], event.after["title"]) == ("Old", "New")
    services.template_update(actor=curator, template=template, title="New", description="D")
    assert Event.objects.count() == 1  # nothing changed, nothing recorded


def test_template_create_starts_an_empty_draft(curator):
    template = services.template_create(actor=curator, slug="fresh", title="Fresh")
    assert list(template.versions.values_list("number", "status")) == [(1, "draft")]
    with pytest.raises(Conflict):
        services.template_create(actor=curator, slug="fresh", title="Again")


# --- who may do it --------------------------------------------------------------------------


def _calls(version, item):
    return {
        "import": lambda u: small_import(u),
        "publish": lambda u: services.version_publish(actor=u, version=version),
        "retire": lambda u: services.version_retire(actor=u, version=version),
        "new_draft": lambda u: services.version_new_draft(actor=u, template=version.template),
        "discard": lambda u: services.version_discard(actor=u, version=version),
        "template_update": lambda u: services.template_update(
            actor=u, template=version.template, title="x", description=""
        ),
        "template_create": lambda u: services.template_create(actor=u, slug="s", title="S"),
        "version_update": lambda u: services.version_update(
            actor=u, version=version, title="x", description="", changelog=""
        ),
        "item_save": lambda u: services.item_save(actor=u, item=item),
        "item_delete": lambda u: services.item_delete(actor=u, item=item),
        "section_save": lambda u: services.section_save(actor=u, section=item.section),
        "section_delete": lambda u: services.section_delete(actor=u, section=item.section),
    }


@pytest.mark.parametrize("who", ["plain", "staff", "inactive_curator", "anonymous"])
@pytest.mark.parametrize("action", list(_calls(None, None)))
def test_non_curators_are_refused_everywhere_and_nothing_is_written(who, action):
    from django.contrib.auth.models import AnonymousUser

    actor = {
        "plain": lambda: UserFactory(),
        "staff": lambda: UserFactory(is_staff=True),
        "inactive_curator": lambda: UserFactory(curator=True, is_active=False),
        "anonymous": AnonymousUser,
    }[who]()
    version = build_version(status=VersionStatus.DRAFT, sections=1, groups=0, items=1)
    item = version.items.get()
    before = row_counts()
    with pytest.raises(Forbidden, match="curator"):
        _calls(version, item)[action](actor)
    assert row_counts() == before


def test_superusers_may_curate(superuser):
    assert small_import(superuser).created


# --- query counts ---------------------------------------------------------------------------


def test_import_query_count_does_not_grow_with_the_document(curator):
    with CaptureQueriesContext(connection) as small:
        small_import(curator)
    sizes = []
    for path in SEED_FILES:
        with CaptureQueriesContext(connection) as large:
            result = services.checklist_import(
                actor=curator, data=path.read_bytes(), source_name=path.name
            )
        sizes.append(result.version.items.count())
        assert len(large) <= len(small) + 3, path.name
    assert max(sizes) > 50


# PostgreSQL adds one query per audit event: the advisory lock that keeps the hash chain linear.
IMPORT_QUERIES = 27


def test_small_import_query_count_is_pinned(curator, django_assert_max_num_queries):
    with django_assert_max_num_queries(IMPORT_QUERIES):
        small_import(curator, publish=True)


def test_all_seeds_import_query_count_is_pinned(curator, django_assert_max_num_queries):
    with django_assert_max_num_queries(IMPORT_QUERIES * len(SEED_FILES)):
        for path in SEED_FILES:
            services.checklist_import(
                actor=curator, data=path.read_bytes(), source_name=path.name, publish=True
            )
    assert TemplateVersion.objects.published().count() == len(SEED_FILES)


def test_new_draft_query_count_is_pinned(curator, django_assert_max_num_queries):
    version = build_version(sections=10, groups=3, items=10)
    with django_assert_max_num_queries(18):
        draft = services.version_new_draft(actor=curator, template=version.template)
    assert draft.items.count() == 400


def test_seed_key_carry_over_across_versions(curator):
    path = SEED_FILES[0]
    raw = path.read_text(encoding="utf-8")
    v1 = services.checklist_import(actor=curator, data=raw, source_name=path.name, publish=True)
    edited = raw.replace("?", "??", 1)  # reword one item
    v2 = services.checklist_import(actor=curator, data=edited, source_name=path.name)
    assert v2.version.number == 2
    old = dict(v1.version.items.values_list("key", "text"))
    new = dict(v2.version.items.values_list("key", "text"))
    kept = set(old) & set(new)
    assert len(kept) >= len(old) - 1


@pytest.mark.parametrize("slug", ["import", "IMPORT"])
def test_a_reserved_slug_is_refused_naming_it(curator, slug):
    """``/checklists/import/`` is the import page (and the API's import action): a checklist
    slugged ``import`` could never be reached at its own address."""
    with pytest.raises(InvalidInput, match="reserved"):
        services.checklist_import(
            actor=curator, data=b"# Import\n\n## A\n\n- one\n", source_name="x.md", slug=slug
        )
    assert not ChecklistTemplate.objects.exists()


def test_a_title_that_slugs_to_a_reserved_word_gets_another_slug(curator):
    result = services.checklist_import(
        actor=curator, data=b"# Import\n\n## A\n\n- one\n", source_name="x.md"
    )
    assert result.template.slug == "import-checklist"
