"""On PostgreSQL, sign-offs cannot be deleted, and an update may only mark one stale."""

from django.db import migrations

CREATE = """
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
DROP TRIGGER IF EXISTS reviews_signoff_guard ON reviews_signoff;
CREATE TRIGGER reviews_signoff_guard BEFORE UPDATE OR DELETE ON reviews_signoff
    FOR EACH ROW EXECUTE FUNCTION specgate_signoff_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS reviews_signoff_guard ON reviews_signoff;
DROP FUNCTION IF EXISTS specgate_signoff_guard();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
