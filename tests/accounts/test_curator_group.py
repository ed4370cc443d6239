"""The curator group exists after ``migrate`` alone (issue 14), with the checklist models'
permissions and no other; in the admin its members see the checklist models only."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.permissions import CURATOR_GROUP, is_curator
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_world

MIGRATION = importlib.import_module("checklists.migrations.0002_curator_group")

EXPECTED = {
    "checklists.add_checklisttemplate",
    "checklists.change_checklisttemplate",
    "checklists.view_checklisttemplate",
    *(
        f"checklists.{action}_{model}"
        for model in ("templateversion", "section", "item")
        for action in ("add", "change", "delete", "view")
    ),
}


def test_the_migration_names_the_group_the_code_asks_for():
    assert MIGRATION.CURATOR_GROUP == CURATOR_GROUP


@pytest.mark.django_db(transaction=True)
def test_migrate_alone_creates_the_curator_group_and_a_curator_sees_checklists_only(client):
    Group.objects.filter(name=CURATOR_GROUP).delete()
    call_command("migrate", "checklists", "0001", verbosity=0)
    assert not Group.objects.filter(name=CURATOR_GROUP).exists()
    call_command("migrate", verbosity=0)
    group = Group.objects.get(name=CURATOR_GROUP)
    granted = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    assert granted == EXPECTED
    call_command("migrate", "checklists", "0001", verbosity=0)  # reversed: the group stays
    call_command("migrate", verbosity=0)  # and applying it again adds nothing
    assert Group.objects.filter(name=CURATOR_GROUP).count() == 1
    assert group.permissions.count() == len(EXPECTED)

    world = make_world()
    curator = UserFactory(is_staff=True)
    curator.groups.add(group)
    assert is_curator(curator)
    client.force_login(curator)
    index = client.get("/admin/")
    assert index.status_code == 200
    models = {
        (app["app_label"], model["object_name"])
        for app in index.context["app_list"]
        for model in app["models"]
    }
    assert models == {("checklists", "ChecklistTemplate"), ("checklists", "TemplateVersion")}
    assert client.get("/admin/checklists/checklisttemplate/import/").status_code == 200
    for url in (
        "/admin/reviews/project/",
        "/admin/accounts/user/",
        "/admin/auth/group/",
        "/admin/audit/event/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/admin/reviews/project/{world.project.pk}/change/").status_code == 404
