"""Shared data for the security tests.

The matrices make hundreds of requests against the same two projects, so the data is built once
per module inside a transaction that is rolled back at the end; each test still runs in its own
savepoint (pytest-django's ``db``), so a test's writes never leak into the next one.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import token_create
from checklists.models import TemplateVersion
from reviews.models import Verdict
from reviews.services import finding_raise, response_save, review_submit, signoff_create
from tests.accounts.factories import UserFactory, record_reauthentication
from tests.reviews.factories import make_version, make_world
from webhooks.services import webhook_create

CANARY = "Leak canary"
ROLES = [
    "anonymous",
    "outsider",
    "viewer",
    "author",
    "reviewer",
    "lead",
    "curator",
    "staff",  # ``is_staff`` only: opens the admin, no power over any project
    "staff curator",  # a curator as deployed: in the group and ``is_staff`` to reach the admin
    "superuser",
]
MEMBER_ROLES = {"viewer", "author", "reviewer", "lead"}
# Who the admin lets in (``is_staff``); of them only the superuser sees projects there.
ADMIN_ROLES = {"staff", "staff curator", "superuser"}


@contextmanager
def rolled_back(django_db_blocker):
    """Run the block's writes in a transaction that is rolled back when the module is done."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@dataclass
class Data:
    a: object  # the project the role users belong to ("in scope")
    b: object  # a second project none of them is in ("out of scope")
    users: dict
    tokens: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)
    published: TemplateVersion | None = None  # a checklist everyone signed in may read
    draft: TemplateVersion | None = None  # a draft only curators (and superusers) may read

    def user(self, role):
        return None if role == "anonymous" else self.users[role]

    def sign_in_everyone(self) -> None:
        """One session per role (with a recent authentication), made with the module's data."""
        for role, user in self.users.items():
            client = Client()
            client.force_login(user)
            record_reauthentication(client, user)
            self.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value

    def browser(self, role) -> Client:
        """A browser signed in as ``role``, with no other cookie. Clients are reused: a new
        one loads the middleware again (WhiteNoise scans the static files each time)."""
        client = self.clients.get(("browser", role))
        if client is None:
            client = self.clients[("browser", role)] = Client()
        client.cookies.clear()
        if role != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client

    def api(self, role) -> APIClient:
        client = self.clients.get(("api", role))
        if client is None:
            client = self.clients[("api", role)] = APIClient()
            if role != "anonymous":
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role]}")
        client.cookies.clear()
        return client


def make_gate_ready(world, finding_title: str) -> None:
    """Every item passes, a suggestion is open and a second reviewer signs off: the lead may
    approve."""
    review_submit(actor=world.author, review=world.review)
    for response in world.review.responses.all():
        response_save(
            actor=world.reviewer2,
            review=world.review,
            item_id=response.item_id,
            verdict=Verdict.PASS,
            note="",
        )
    world.finding = finding_raise(
        actor=world.reviewer2, review=world.review, severity="suggestion", title=finding_title
    )
    signoff_create(actor=world.reviewer2, review=world.review, comment="ok")


def build_data() -> Data:
    a = make_world()
    b = make_world(
        version=make_version(
            slug="tpl-canary",
            items=[
                (f"{CANARY} item", "must", True, False),
                ("Errors are specified", "must", False, False),
            ],
        )
    )
    b.project.name = f"{CANARY} project"
    b.project.save(update_fields=["name"])
    b.spec.title = f"{CANARY} spec"
    b.spec.save(update_fields=["title"])
    for world in (a, b):
        make_gate_ready(world, f"{CANARY} finding" if world is b else "Name the metric")
        world.hook = webhook_create(
            actor=world.lead, project=world.project, url="https://hooks.example.invalid/hook"
        )
    users = {
        "outsider": a.outsider,
        "viewer": a.viewer,
        "author": a.author,
        "reviewer": a.reviewer,
        "lead": a.lead,
        "curator": UserFactory(curator=True),
        "staff": UserFactory(is_staff=True),
        "staff curator": UserFactory(is_staff=True, curator=True),
        "superuser": UserFactory(is_staff=True, is_superuser=True),
    }
    data = Data(a=a, b=b, users=users)
    data.tokens = {role: token_create(actor=u, name="security").raw for role, u in users.items()}
    data.published = make_version(slug="library-published", number=1)
    make_version(slug="library-published", number=2, template=data.published.template)
    data.draft = make_version(slug="library-draft", number=1, status="draft")
    data.sign_in_everyone()
    return data
