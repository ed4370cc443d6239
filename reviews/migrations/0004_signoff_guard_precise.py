"""On PostgreSQL, the only change a sign-off accepts is being marked stale, once, by its event.

0002 froze the listed columns and refused un-staling, but let ``stale_reason`` and
``stale_event_id`` be rewritten at any time (a stale sign-off could be made to blame another
change; a current one could carry a reason without being stale) and did not freeze ``id`` or
columns added later. Now:

- every column except ``stale``, ``stale_reason`` and ``stale_event_id`` is frozen, compared
  as a whole row, so a column added later is frozen too;
- those three change only together with ``stale`` going from false to true, and
  ``stale_event_id`` must then name the ``signoff.stale`` audit event of this sign-off (written
  just before, in the same transaction, by ``reviews.services._common.content_changed``);
- an update that changes nothing passes; DELETE is refused as before (TRUNCATE: ``audit`` 0003).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION specgate_signoff_guard() RETURNS trigger AS $$
DECLARE
    marks CONSTANT text[] := ARRAY['stale', 'stale_reason', 'stale_event_id'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'sign-offs cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - marks) IS DISTINCT FROM (to_jsonb(OLD) - marks) THEN
        RAISE EXCEPTION 'a sign-off can only be marked stale' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.stale, NEW.stale_reason, NEW.stale_event_id)
       IS NOT DISTINCT FROM (OLD.stale, OLD.stale_reason, OLD.stale_event_id) THEN
        RETURN NEW;
    END IF;
    IF OLD.stale OR NOT NEW.stale OR NOT EXISTS (
        SELECT 1 FROM audit_event e
        WHERE e.id = NEW.stale_event_id AND e.verb = 'signoff.stale'
          AND e.object_type = 'signoff' AND e.object_id = NEW.id
    ) THEN
        RAISE EXCEPTION 'a sign-off is marked stale once, naming its signoff.stale event'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# 0002's function, restored on the way back.
PREVIOUS = """
CREATE OR REPLACE FUNCTION specgate_signoff_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'sign-offs cannot be deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.review_id IS DISTINCT FROM OLD.review_id
       OR NEW.user_id IS DISTINCT FROM OLD.user_id
       OR NEW.role IS DISTINCT FROM OLD.role
       OR NEW.decision IS DISTINCT FROM OLD.decision
       OR NEW.comment IS DISTINCT FROM OLD.comment
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.digest IS DISTINCT FROM OLD.digest
       OR (OLD.stale AND NOT NEW.stale) THEN
        RAISE EXCEPTION 'a sign-off can only be marked stale' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS, None)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0003_review_counters_and_newest_index"),
        ("audit", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
