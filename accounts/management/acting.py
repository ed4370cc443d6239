"""What the administration commands share: who they act as, and domain refusals as command
errors (a message naming what was wrong, exit status 1)."""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from config.errors import DomainError


def add_acting_argument(parser) -> None:
    parser.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        help="Act as this user, a site administrator (default: the first active superuser).",
    )


def acting_user(as_email: str | None):
    """The user a command acts as: the one named by ``--as``, else the first active superuser.
    The services decide what that user may do, as for the browser and the API."""
    users = get_user_model().objects.filter(is_active=True)
    if as_email:
        user = users.filter(email__iexact=as_email.strip()).first()
        if user is None:
            raise CommandError(f"--as: no active user with e-mail {as_email!r}.")
        return user
    user = users.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise CommandError(
            "No site administrator to act as: create one with `manage.py createsuperuser` "
            "first (or name a user with --as)."
        )
    return user


@contextmanager
def refusals_as_command_errors():
    try:
        yield
    except DomainError as exc:
        raise CommandError(exc.message) from exc
