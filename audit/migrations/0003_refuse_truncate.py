"""On PostgreSQL, the database also refuses TRUNCATE on audit events and sign-offs.

Row triggers (0002 here, ``reviews`` 0002) do not fire on TRUNCATE, so until now
``TRUNCATE audit_event`` (or ``TRUNCATE accounts_user CASCADE``, which reaches both tables)
erased the trail without a word. A statement-level BEFORE TRUNCATE trigger on each table now
refuses it, also when the table is reached by CASCADE.

One path must still empty the tables: ``manage.py flush``, which Django's transactional tests
(pytest-django's ``transaction=True``) run after every test, and which restore drills use. It
empties every table with one ``TRUNCATE``. The trigger therefore lets TRUNCATE through when the
session setting ``specgate.allow_truncate`` is ``on``, and only ``audit``'s override of the
``flush`` command (``audit/management/commands/flush.py``) sets it, for the duration of the
flush, and resets it afterwards. The app never sets it, so for the connections the app uses —
ORM, raw SQL, anything a bug or an injection could run — TRUNCATE stays refused.

Alternatives we did not take: making the tests avoid ``flush`` (every transactional test in
the suite flushes on PostgreSQL, and an operator's ``flush`` would fail half-way); checking
``session_replication_role`` (needs superuser rights the app's role should not have); a
separate database role that owns the tables (the right hardening for production, but an
operations matter: it does not fit a migration, and the same role runs the migrations here).

As with the row triggers, this guards against the app and its users, not against the tables'
owner: whoever can run ``SET`` and ``TRUNCATE`` by hand, or ``DROP TRIGGER``, holds the keys.
The hash chain (``manage.py verify_audit``, with ``--expect-head``) is what detects that.

``pg_restore --clean`` drops and recreates the tables, it does not truncate them: restores are
unaffected.
"""

from django.db import migrations

TABLES = {"audit_event": "audit_event_no_truncate", "reviews_signoff": "reviews_signoff_no_truncate"}

FUNCTION = """
CREATE OR REPLACE FUNCTION specgate_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('specgate.allow_truncate', true), '') = 'on' THEN
        RETURN NULL;  -- manage.py flush (see audit/management/commands/flush.py)
    END IF;
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only manage.py flush may empty it.';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
DROP TRIGGER IF EXISTS {trigger} ON {table};
CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION specgate_refuse_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, None)
    for table, trigger in TABLES.items():
        schema_editor.execute(TRIGGER.format(table=table, trigger=trigger), None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, trigger in TABLES.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table};", None)
    schema_editor.execute("DROP FUNCTION IF EXISTS specgate_refuse_truncate();", None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
        ("reviews", "0002_signoff_append_only"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
