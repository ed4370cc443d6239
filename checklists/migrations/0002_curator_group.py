"""The curator group exists after ``migrate``, with the checklist models' permissions.

Curators manage checklist templates and nothing else (DESIGN.md): the group holds the
permissions the checklist admin needs and none over projects. Its name is
``accounts.permissions.CURATOR_GROUP`` (written out here: a migration does not change with
the code; tests/accounts/test_curator_group.py holds the two equal).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATOR_GROUP = "curator"

# What the checklist admin lets a curator do: add, change and view templates, versions and
# their sections and items; discard a draft version and delete a draft's sections and items.
PERMISSIONS = {
    "checklisttemplate": ("add", "change", "view"),
    "templateversion": ("add", "change", "delete", "view"),
    "section": ("add", "change", "delete", "view"),
    "item": ("add", "change", "delete", "view"),
}


def create_curator_group(apps, schema_editor):
    db = schema_editor.connection.alias
    # Django creates permissions after the last migration; this one needs them now.
    # (``create_permissions`` skips an app config without a models module, as the migration
    # state's stubs are.)
    checklists = apps.get_app_config("checklists")
    previous = getattr(checklists, "models_module", None)
    checklists.models_module = True
    try:
        create_permissions(checklists, apps=apps, verbosity=0, using=db)
    finally:
        checklists.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(db).get_or_create(name=CURATOR_GROUP)
    wanted = [
        f"{action}_{model}" for model, actions in PERMISSIONS.items() for action in actions
    ]
    group.permissions.add(
        *Permission.objects.using(db).filter(
            content_type__app_label="checklists", codename__in=wanted
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Reversed, the group stays (it may have members by then); applying again adds nothing.
    operations = [migrations.RunPython(create_curator_group, migrations.RunPython.noop)]
