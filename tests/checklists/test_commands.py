import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from audit.models import Event
from checklists import selectors
from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion, VersionStatus
from tests.accounts.factories import UserFactory
from tests.checklists.factories import SEED_FILES, SMALL_DOC, build_version

pytestmark = pytest.mark.django_db


def rows() -> tuple:
    return tuple(
        m.objects.count() for m in (ChecklistTemplate, TemplateVersion, Section, Item, Event)
    )


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.md"
    path.write_text(SMALL_DOC, encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "broken-notes.md"
    path.write_bytes(b"\x00\x01binary\xff\xfe" * 50)
    return path


def test_dry_run_summarises_every_seed_and_writes_nothing(curator):
    out = run("import_checklist", *map(str, SEED_FILES), "--dry-run")
    for path in SEED_FILES:
        assert path.name in out
    assert "sections" in out and "groups" in out and "gate items" in out
    assert "must" in out and "should" in out and "could" in out
    assert "Dry run: nothing was written." in out
    assert rows() == (0, 0, 0, 0, 0)


def test_dry_run_reports_counts_matching_the_import(curator, small):
    out = run("import_checklist", str(small), "--dry-run", "--verbosity", "2")
    assert "3 sections, 2 groups, 7 items (2 gate items" in out
    assert "Are error bodies specified?" in out
    assert "Creates the checklist 'small-api-checklist'" in out


def test_dry_run_of_a_bad_file_fails_naming_the_file(bad, small):
    with pytest.raises(CommandError, match="broken-notes.md"):
        run("import_checklist", str(small), str(bad), "--dry-run")
    assert rows() == (0, 0, 0, 0, 0)


def test_import_as_a_curator(curator, small):
    out = run("import_checklist", str(small), "--as", curator.email)
    version = TemplateVersion.objects.get()
    assert version.status == VersionStatus.DRAFT and version.created_by == curator
    assert "created" in out and "7 items" in out
    assert "unchanged" in run("import_checklist", str(small), "--as", curator.email)
    assert TemplateVersion.objects.count() == 1


def test_import_and_publish_with_a_slug(curator, small):
    run("import_checklist", str(small), "--slug", "api", "--publish", "--changelog", "First")
    version = TemplateVersion.objects.get(template__slug="api")
    assert (version.status, version.changelog) == (VersionStatus.PUBLISHED, "First")


def test_import_acts_as_the_first_superuser_by_default(superuser, small):
    run("import_checklist", str(small))
    assert TemplateVersion.objects.get().created_by == superuser


def test_import_falls_back_to_a_curator(curator, small):
    run("import_checklist", str(small))
    assert TemplateVersion.objects.get().created_by == curator


def test_import_without_any_curator_explains_what_to_do(db, small):
    with pytest.raises(CommandError, match="--as EMAIL"):
        run("import_checklist", str(small))
    assert rows() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("email", ["nobody@example.com", "plain@example.com"])
def test_import_as_someone_who_is_not_a_curator_is_refused(db, small, email):
    UserFactory(email="plain@example.com")
    with pytest.raises(CommandError, match=email):
        run("import_checklist", str(small), "--as", email)
    assert rows()[0] == 0


def test_one_bad_file_imports_nothing(curator, small, bad):
    with pytest.raises(CommandError, match="broken-notes.md"):
        run("import_checklist", str(small), str(bad))
    assert rows() == (0, 0, 0, 0, 0)


def test_a_missing_file_fails_naming_it(curator, tmp_path):
    missing = tmp_path / "nope.md"
    with pytest.raises(CommandError, match="nope.md"):
        run("import_checklist", str(missing))


def test_slug_is_for_one_file(curator, small):
    with pytest.raises(CommandError, match="single FILE"):
        run("import_checklist", str(small), str(small), "--slug", "x")
    with pytest.raises(CommandError, match="slug"):
        run("import_checklist", str(small), "--slug", "not a slug")


def test_the_command_exits_non_zero_on_a_bad_file(bad):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    proc = subprocess.run(
        [sys.executable, "manage.py", "import_checklist", str(bad), "--dry-run"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "broken-notes.md" in proc.stderr


# --- export ---------------------------------------------------------------------------------


def test_export_writes_the_latest_published_version(curator, small):
    run("import_checklist", str(small), "--publish", "--as", curator.email)
    out = run("export_checklist", "small-api-checklist")
    assert "Are error bodies specified?" in out
    assert out == selectors.version_markdown(TemplateVersion.objects.get())


def test_export_a_given_version_to_a_file(curator, small, tmp_path):
    run("import_checklist", str(small), "--as", curator.email)  # a draft
    target = tmp_path / "out.md"
    run("export_checklist", "small-api-checklist", "--version", "1", "--output", str(target))
    assert "Does the spec name an owner?" in target.read_text(encoding="utf-8")


def test_export_errors(db):
    with pytest.raises(CommandError, match="No checklist"):
        run("export_checklist", "missing")
    draft = build_version(status=VersionStatus.DRAFT)
    with pytest.raises(CommandError, match="no published version"):
        run("export_checklist", draft.template.slug)
    with pytest.raises(CommandError, match="no version 5"):
        run("export_checklist", draft.template.slug, "--version", "5")


@pytest.mark.parametrize("path", [None, *SEED_FILES], ids=lambda p: p.name if p else "small")
def test_exporting_and_reimporting_keeps_structure_and_keys(curator, small, tmp_path, path):
    source = path or small
    run("import_checklist", str(source), "--publish", "--slug", "round", "--as", curator.email)
    exported = tmp_path / "exported.md"
    run("export_checklist", "round", "--output", str(exported))

    run("import_checklist", str(exported), "--slug", "round", "--as", curator.email)

    v1, v2 = TemplateVersion.objects.filter(template__slug="round").order_by("number")
    comparison = selectors.version_compare(v1, v2)
    assert not comparison.added and not comparison.removed and not comparison.changed
    assert v2.items.count() == v1.items.count()
