"""The README's PostgreSQL backup procedure, run as written: ``pg_dump``, later changes, then
``pg_restore`` over them. The approved review comes back with its audit chain, the chain
still reaches the head noted at backup time, and the next write continues it."""

import re
import shutil
import subprocess
import sys
from datetime import date
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from audit.cache import cached_read
from audit.models import Event
from audit.services import verify_chain
from reviews import services
from reviews.models import Finding, Response, Review, SignOff

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="pg_dump/pg_restore need PostgreSQL",
    ),
    pytest.mark.skipif(
        not (shutil.which("pg_dump") and shutil.which("pg_restore")),
        reason="pg_dump/pg_restore are not on PATH",
    ),
]


def backup_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("\n## Backups\n", 1)[1].split("\n## ", 1)[0]


def readme_line(command: str) -> str:
    """The README's line that runs ``command`` (its trailing comment dropped)."""
    lines = [line for line in backup_section().splitlines() if line.startswith(command + " ")]
    assert len(lines) == 1, f"the README's backup section should run {command} once"
    return lines[0].split("  #", 1)[0].strip()


def database_url() -> str:
    db = settings.DATABASES["default"]  # the test database
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def shell(line: str, cwd: Path) -> str:
    done = subprocess.run(  # noqa: S603 - the README's own command line
        ["bash", "-c", line],  # noqa: S607
        cwd=cwd,
        env={"PATH": shutil.os.environ["PATH"], "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (line, done.stdout, done.stderr)
    assert "error" not in done.stderr.lower(), done.stderr
    return done.stdout


def verify_audit(*args) -> str:
    """``manage.py verify_audit`` in its own process, on the test database."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "verify_audit", *args],
        cwd=ROOT,
        env={**shutil.os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def noted_head() -> str:
    """The head ``verify_audit`` prints, as an operator notes it down with the dump."""
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return re.search(r"head (\d+:[0-9a-f]{64})", out.getvalue())[1]


def approved_review():
    from tests.reviews.factories import make_world

    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    for item in world.version.items.all():
        services.response_save(
            actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass", note="ok"
        )
    finding = services.finding_raise(
        actor=world.reviewer, review=world.review, severity="critical", title="Rate limits"
    )
    services.finding_resolve(actor=world.author, finding=finding, note="added")
    services.signoff_create(actor=world.reviewer, review=world.review)
    services.review_approve(actor=world.lead, review=world.review)
    return world


def snapshot(review_id):
    return {
        "review": Review.objects.filter(pk=review_id).values("state", "content_version").get(),
        "events": list(Event.objects.order_by("id").values_list("id", "verb", "hash")),
        "responses": list(
            Response.objects.order_by("id").values_list("id", "verdict", "note", "version")
        ),
        "signoffs": list(SignOff.objects.order_by("id").values_list("id", "digest", "stale")),
        "findings": list(Finding.objects.order_by("id").values_list("id", "title", "status")),
    }


def restore(tmp_path):
    """The README's restore line, on the dump taken today (the line names an example date)."""
    restore_line = readme_line("pg_restore")
    named = re.search(r"(specgate-[0-9-]+\.dump)", restore_line)[1]
    today = tmp_path / f"specgate-{date.today():%F}.dump"
    if today.name != named:
        shutil.copyfile(today, tmp_path / named)
    connection.close()  # the app is stopped during a restore: pg_restore drops the tables
    shell(restore_line, tmp_path)


def test_pg_dump_and_pg_restore_as_the_readme_says(tmp_path):
    world = approved_review()
    head = noted_head()
    shell(readme_line("pg_dump"), tmp_path)
    assert (tmp_path / f"specgate-{date.today():%F}.dump").stat().st_size > 0
    before = snapshot(world.review.pk)

    # Life goes on, then the database has to go back to the backup.
    services.review_reopen(actor=world.lead, review=world.review, reason="changed our minds")
    lost = Event.objects.order_by("-id").first()
    restore(tmp_path)

    assert snapshot(world.review.pk) == before
    assert before["review"]["state"] == "approved"
    assert not Event.objects.filter(pk=lost.pk).exists()
    assert verify_chain() == (True, None, "")
    assert f"head {head}" in verify_audit("--expect-head", head)

    # The next write continues the restored chain: next id, linked to the restored head.
    review = Review.objects.get(pk=world.review.pk)
    services.review_reopen(actor=world.lead, review=review, reason="after the restore")
    newest = Event.objects.order_by("-id").first()
    assert newest.pk == lost.pk and newest.hash != lost.hash  # the sequence came back too
    assert newest.prev_hash == before["events"][-1][2]
    assert "Audit chain intact" in verify_audit("--expect-head", head)
    assert Review.objects.get(pk=world.review.pk).state == "in_review"


def test_a_read_cached_before_a_restore_is_not_served_after_it(tmp_path):
    """Events written after the backup are lost, and the restored sequence hands their ids
    out again: a read cached under such an id must not answer for the new data."""
    world = approved_review()
    shell(readme_line("pg_dump"), tmp_path)

    def newest_events():
        return list(Event.objects.order_by("-id").values_list("id", "verb", "hash")[:3])

    services.review_reopen(actor=world.lead, review=world.review, reason="lost with the restore")
    cached_before = cached_read(world.lead, ("probe",), newest_events)
    restore(tmp_path)
    review = Review.objects.get(pk=world.review.pk)
    services.review_reopen(actor=world.lead, review=review, reason="after the restore")
    assert newest_events()[0][0] == cached_before[0][0]  # the same head id, again
    assert cached_read(world.lead, ("probe",), newest_events) == newest_events()
