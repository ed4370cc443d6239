"""Response.reset_reason: an answer the system put back to re-check names what did it, and is no
longer credited to whoever answered it last. Answers reset before this field existed are fixed
from the audit log (the ``responses.recheck`` events and the revisions that caused them)."""

from django.db import migrations, models

SYSTEM_RESET_EARLIER = "an earlier revision or checklist change"


def credit_resets_to_the_system(apps, schema_editor):
    Response = apps.get_model("reviews", "Response")
    Event = apps.get_model("audit", "Event")
    resets = Event.objects.filter(verb="responses.recheck").select_related("cause").order_by("id")
    for event in resets.iterator(chunk_size=500):
        items = (event.after or {}).get("recheck") or []
        if not items or event.review_id is None:
            continue
        label = ((event.cause.after or {}).get("revision") if event.cause_id else None) or ""
        reason = f"revision {label}" if label else SYSTEM_RESET_EARLIER
        Response.objects.filter(
            review_id=event.review_id, item_id__in=items, needs_recheck=True, verdict="unanswered"
        ).update(answered_by=None, reset_reason=reason[:300])
    # Any other answer still waiting for a re-check was put back by the system too (a person's
    # answer clears the mark).
    Response.objects.filter(needs_recheck=True, verdict="unanswered", reset_reason="").update(
        answered_by=None, reset_reason=SYSTEM_RESET_EARLIER
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0004_signoff_guard_precise"),
        ("audit", "0003_refuse_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="reset_reason",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.RunPython(credit_resets_to_the_system, migrations.RunPython.noop),
    ]
