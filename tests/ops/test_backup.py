"""Backup and restore with dumpdata/loaddata: a whole review survives with its events intact."""

import pytest
from django.core.management import call_command

from audit.models import Event
from audit.services import verify_chain
from reviews import services
from reviews.models import Finding, Response, Review, SignOff

EXCLUDE = ["contenttypes", "auth.permission", "sessions", "admin.logentry"]


@pytest.mark.django_db(transaction=True)
def test_full_review_survives_dump_and_restore(tmp_path):
    from tests.reviews.factories import make_world

    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    for item in world.version.items.all():
        services.response_save(
            actor=world.reviewer,
            review=world.review,
            item_id=item.pk,
            verdict="pass",
            note="checked",
        )
    finding = services.finding_raise(
        actor=world.reviewer, review=world.review, severity="critical", title="Rate limits <script>"
    )
    services.finding_resolve(actor=world.author, finding=finding, note="added")
    services.signoff_create(actor=world.reviewer, review=world.review)
    services.review_approve(actor=world.lead, review=world.review)
    before = {
        "events": list(Event.objects.order_by("id").values_list("id", "hash")),
        "responses": list(
            Response.objects.order_by("id").values_list("id", "verdict", "note", "version")
        ),
        "signoffs": list(SignOff.objects.order_by("id").values_list("id", "digest", "stale")),
        "findings": list(Finding.objects.values_list("id", "title", "status")),
    }
    dump = tmp_path / "backup.json"
    excludes = [arg for label in EXCLUDE for arg in ("--exclude", label)]
    call_command("dumpdata", "--natural-foreign", *excludes, "--output", str(dump), verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    assert not Review.objects.exists() and not Event.objects.exists()
    call_command("loaddata", str(dump), verbosity=0)
    assert Review.objects.get(pk=world.review.pk).state == "approved"
    assert list(Event.objects.order_by("id").values_list("id", "hash")) == before["events"]
    assert (
        list(Response.objects.order_by("id").values_list("id", "verdict", "note", "version"))
        == before["responses"]
    )
    assert (
        list(SignOff.objects.order_by("id").values_list("id", "digest", "stale"))
        == before["signoffs"]
    )
    assert list(Finding.objects.values_list("id", "title", "status")) == before["findings"]
    assert verify_chain() == (True, None, "")
