"""The administration commands for production (issue 14): create_user, create_project,
add_member, grant_curator. They call the same services as the browser and the API (acting as a
site administrator), write audit events, and refuse bad input with a message and exit status 1,
writing nothing."""

import io

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from accounts.models import User
from accounts.permissions import CURATOR_GROUP, is_curator
from audit.models import Event
from reviews import permissions
from reviews.models import Membership, Project
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a long and unusual passphrase 42"


@pytest.fixture
def admin():
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def run(*args) -> str:
    """The command's standard output (a refusal raises CommandError)."""
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def events(verb: str):
    return list(Event.objects.filter(verb=verb).order_by("id"))


# --- create_user ---------------------------------------------------------------------------


def test_create_user_reads_the_password_from_an_environment_variable(admin, monkeypatch):
    monkeypatch.setenv("NEW_PASSWORD", GOOD_PASSWORD)
    output = run(
        "create_user", "Ada@Example.com", "--name", "Ada", "--password-env", "NEW_PASSWORD"
    )
    user = User.objects.get(email="ada@example.com")
    assert "Created ada@example.com" in output
    assert user.check_password(GOOD_PASSWORD) and user.display_name == "Ada"
    assert not (user.is_staff or user.is_superuser) and not user.memberships.exists()
    (event,) = events("user.created")
    assert event.actor_id == admin.pk and event.object_id == user.pk
    assert event.after == {"email": "ada@example.com", "display_name": "Ada", "password_set": True}
    assert GOOD_PASSWORD not in str(event.before) + str(event.after)


def test_create_user_reads_the_password_from_stdin(admin, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD_PASSWORD + "\n"))
    run("create_user", "bo@example.com", "--password-stdin")
    assert User.objects.get(email="bo@example.com").check_password(GOOD_PASSWORD)


def test_create_user_asks_for_the_password_at_a_terminal(admin, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    typed = iter([GOOD_PASSWORD, GOOD_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    run("create_user", "cy@example.com")
    assert User.objects.get(email="cy@example.com").check_password(GOOD_PASSWORD)
    typed = iter([GOOD_PASSWORD, "something else entirely 7"])
    with pytest.raises(CommandError, match="differ"):
        run("create_user", "di@example.com")
    assert not User.objects.filter(email="di@example.com").exists()


def test_create_user_without_a_password_leaves_it_unusable(admin):
    run("create_user", "ed@example.com", "--no-password")
    assert not User.objects.get(email="ed@example.com").has_usable_password()
    assert events("user.created")[0].after["password_set"] is False


@pytest.mark.parametrize(
    "args,env,message",
    [
        (["fi@example.com"], {}, "--password-env VAR, --password-stdin or --no-password"),
        (["fi@example.com", "--password-env", "UNSET_VAR"], {}, "UNSET_VAR is not set"),
        (["fi@example.com", "--password-env", "PW"], {"PW": "password"}, "password is refused"),
        (["not-an-email", "--no-password"], {}, "is not an e-mail address"),
        (["root@example.com", "--no-password"], {}, "already exists"),
        (["fi@example.com", "--no-password", "--as", "nobody@example.com"], {}, "--as: no"),
    ],
    ids=["no password source", "unset variable", "weak password", "bad e-mail", "taken", "--as"],
)
def test_create_user_refuses_bad_input_and_writes_nothing(admin, monkeypatch, args, env, message):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = (User.objects.count(), Event.objects.count())
    with pytest.raises(CommandError, match=message):
        run("create_user", *args)
    assert (User.objects.count(), Event.objects.count()) == before


def test_create_user_needs_a_site_administrator():
    with pytest.raises(CommandError, match="createsuperuser"):
        run("create_user", "gi@example.com", "--no-password")
    staff_curator = UserFactory(is_staff=True, curator=True)
    with pytest.raises(CommandError, match="Only site administrators"):
        run("create_user", "gi@example.com", "--no-password", "--as", staff_curator.email)
    assert not User.objects.filter(email="gi@example.com").exists()


def test_a_refusal_exits_with_status_1_and_says_why(admin, capsys):
    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["manage.py", "add_member", "nope", admin.email, "lead"]).execute()
    assert exit_.value.code == 1
    assert "No project with slug 'nope'" in capsys.readouterr().err


# --- create_project and add_member ---------------------------------------------------------


def test_create_project_acts_as_the_site_administrator(admin):
    output = run("create_project", "payments", "Payments", "--description", "Money in")
    project = Project.objects.get(slug="payments")
    assert "Created project payments" in output and project.description == "Money in"
    (event,) = events("project.created")
    assert (event.actor_id, event.project_id) == (admin.pk, project.pk)
    with pytest.raises(CommandError, match="Invalid input"):
        run("create_project", "has spaces", "Bad")
    with pytest.raises(CommandError, match="Invalid input"):
        run("create_project", "payments", "Again")
    assert Project.objects.count() == 1


def test_create_project_refuses_staff_and_curators(admin):
    curator = UserFactory(is_staff=True, curator=True)
    with pytest.raises(CommandError, match="Only site administrators create projects"):
        run("create_project", "mine", "Mine", "--as", curator.email)
    assert not Project.objects.filter(slug="mine").exists()


def test_add_member_adds_and_changes_a_role_with_events(admin):
    world = make_world()
    newcomer = UserFactory()
    output = run("add_member", world.project.slug, newcomer.email, "lead", "--can-override")
    assert f"Added {newcomer.email} as lead of {world.project.slug} (may override)" in output
    membership = Membership.objects.get(project=world.project, user=newcomer)
    assert (membership.role, membership.can_override) == ("lead", True)
    run("add_member", world.project.slug, newcomer.email, "reviewer")
    assert Membership.objects.get(pk=membership.pk).role == "reviewer"
    added, changed = events("membership.added")[-1], events("membership.changed")[-1]
    assert added.actor_id == changed.actor_id == admin.pk
    assert changed.after["role"] == "reviewer"


@pytest.mark.parametrize(
    "args,message",
    [
        (["{project}", "{user}", "boss"], "Unknown role 'boss'; use one of viewer, author"),
        (["{project}", "ghost@example.com", "viewer"], "No active user with e-mail"),
        (["no-such-project", "{user}", "viewer"], "No project with slug 'no-such-project'"),
        (["{project}", "{user}", "viewer", "--can-override"], "Only leads can hold the override"),
    ],
    ids=["bad role", "unknown user", "unknown project", "override for a viewer"],
)
def test_add_member_refuses_bad_input_and_writes_nothing(admin, args, message):
    world = make_world()
    user = UserFactory()
    values = {"project": world.project.slug, "user": user.email}
    before = (Membership.objects.count(), Event.objects.count())
    with pytest.raises(CommandError, match=message):
        run("add_member", *(arg.format(**values) for arg in args))
    assert (Membership.objects.count(), Event.objects.count()) == before


def test_add_member_as_someone_follows_the_same_rules_as_the_browser(admin):
    """--as a lead of the project may add members; a curator or staff user who is not a member
    is told the project does not exist, as the browser and the API answer 404."""
    world = make_world()
    newcomer = UserFactory()
    run("add_member", world.project.slug, newcomer.email, "viewer", "--as", world.lead.email)
    assert permissions.role_in(newcomer, world.project.pk) == "viewer"
    curator = UserFactory(is_staff=True, curator=True)
    with pytest.raises(CommandError, match="No such project"):
        run("add_member", world.project.slug, curator.email, "lead", "--as", curator.email)
    with pytest.raises(CommandError, match="Only the project's leads"):
        run("add_member", world.project.slug, curator.email, "lead", "--as", world.viewer.email)
    assert not Membership.objects.filter(user=curator).exists()


# --- grant_curator -------------------------------------------------------------------------


def test_grant_curator_grants_and_revokes_with_events(admin):
    user = UserFactory()
    assert "is now a curator" in run("grant_curator", user.email)
    user = User.objects.get(pk=user.pk)
    assert is_curator(user) and user.is_staff
    assert user.groups.get().name == CURATOR_GROUP
    assert "already a curator: nothing changed" in run("grant_curator", user.email)
    assert "no longer a curator" in run("grant_curator", user.email, "--revoke")
    user = User.objects.get(pk=user.pk)
    assert not is_curator(user) and not user.is_staff
    granted, revoked = events("user.curator_granted"), events("user.curator_revoked")
    assert len(granted) == len(revoked) == 1
    assert granted[0].actor_id == admin.pk and granted[0].object_id == user.pk
    assert (granted[0].before, granted[0].after) == (
        {"curator": False, "is_staff": False},
        {"curator": True, "is_staff": True},
    )


def test_grant_curator_refuses_unknown_users_and_non_administrators(admin):
    with pytest.raises(CommandError, match="No active user with e-mail 'ghost@example.com'"):
        run("grant_curator", "ghost@example.com")
    curator = UserFactory(is_staff=True, curator=True)
    other = UserFactory()
    with pytest.raises(CommandError, match="Only site administrators"):
        run("grant_curator", other.email, "--as", curator.email)
    assert not is_curator(User.objects.get(pk=other.pk))


# --- the first administrator's path (README) -----------------------------------------------


def test_the_first_administrators_path(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", GOOD_PASSWORD)
    call_command("createsuperuser", interactive=False, email="admin@example.com", verbosity=0)
    run("create_project", "payments", "Payments")
    monkeypatch.setenv("SPECGATE_NEW_PASSWORD", GOOD_PASSWORD)
    for email in ("lead@example.com", "curator@example.com"):
        run("create_user", email, "--password-env", "SPECGATE_NEW_PASSWORD")
    run("add_member", "payments", "lead@example.com", "lead", "--can-override")
    run("grant_curator", "curator@example.com")
    lead = User.objects.get(email="lead@example.com")
    curator = User.objects.get(email="curator@example.com")
    project = Project.objects.get(slug="payments")
    assert permissions.can_manage_members(lead, project)
    assert is_curator(curator) and not permissions.can_view_project(curator, project)
    verbs = list(Event.objects.order_by("id").values_list("verb", flat=True))
    assert verbs == [
        "project.created",
        "user.created",
        "user.created",
        "membership.added",
        "user.curator_granted",
    ]
