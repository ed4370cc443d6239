"""Writes for accounts: users, the curator role and personal API tokens."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ApiToken, User, hash_token
from accounts.permissions import CURATOR_GROUP, is_site_administrator
from audit.services import record_event
from config.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_TOKEN_DAYS = 3650
DEFAULT_TOKEN_DAYS = 90
DAY = timedelta(days=1)


@dataclass
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, never stored


def _require_parent_may_issue(*, actor, parent: ApiToken) -> ApiToken:
    """A token that creates a token must be the actor's own, live and read-write. Returns it
    read afresh, locked until the new token is saved."""
    parent = ApiToken.objects.select_for_update().filter(pk=parent.pk).first()
    if parent is None:
        raise Forbidden("This API token no longer exists.")
    if parent.user_id != actor.pk:
        raise Forbidden("A token only creates tokens for its own user.")
    if not parent.is_active:
        raise Forbidden("This API token has expired or been revoked.")
    if parent.read_only:
        raise Forbidden("A read-only token cannot create tokens.")
    return parent


def _token_expiry(*, expires_in_days: int | None, parent: ApiToken | None, now) -> datetime:
    """Every token expires: after ``expires_in_days`` (1 to MAX_TOKEN_DAYS), by default
    DEFAULT_TOKEN_DAYS, and never after the token that creates it."""
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= MAX_TOKEN_DAYS
    ):
        raise InvalidInput(
            f"Expiry must be 1 to {MAX_TOKEN_DAYS} days.",
            details={"expires_in_days": [f"1 to {MAX_TOKEN_DAYS}."]},
        )
    latest = parent.expires_at if parent is not None else None
    if expires_in_days is None:
        expires_at = now + timedelta(days=DEFAULT_TOKEN_DAYS)
        return min(expires_at, latest) if latest else expires_at
    expires_at = now + timedelta(days=expires_in_days)
    if latest is None or expires_at <= latest:
        return expires_at
    allowed = max(1, math.ceil((latest - now) / DAY))
    if expires_in_days > allowed:
        raise InvalidInput(
            f"A token cannot outlive the token that creates it: at most {allowed} days "
            f"(it expires {latest:%Y-%m-%d %H:%M} UTC).",
            details={"expires_in_days": [f"At most {allowed}."]},
        )
    return latest  # the same whole number of days, cut to the parent's expiry


@transaction.atomic
def token_create(
    *,
    actor,
    name: str,
    read_only: bool = False,
    expires_in_days: int | None = None,
    parent: ApiToken | None = None,
) -> IssuedToken:
    """Issue a personal token for ``actor``. The raw token is returned once; only its hash is
    kept. ``expires_in_days=None`` means the default (DEFAULT_TOKEN_DAYS), not "never": every
    token expires. ``parent`` is the token the request came with, if any: a token never
    creates a token that outlives it or reaches further (read-only tokens create none)."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise Forbidden("Only active users create API tokens.")
    if parent is not None:  # read afresh and locked: a revocation in between counts
        parent = _require_parent_may_issue(actor=actor, parent=parent)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            "A token needs a name of 1 to 100 characters.",
            details={"name": ["1 to 100 characters."]},
        )
    expires_at = _token_expiry(expires_in_days=expires_in_days, parent=parent, now=timezone.now())
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=actor,
        name=name,
        prefix=raw[:10],
        key_hash=hash_token(raw),
        read_only=bool(read_only),
        expires_at=expires_at,
    )
    record_event(
        actor=actor,
        verb="token.created",
        object_type="apitoken",
        object_id=token.pk,
        object_repr=str(token),
        after={
            "name": name,
            "read_only": token.read_only,
            "expires_at": expires_at.isoformat(),
            "created_with_token": parent.pk if parent is not None else None,
        },
    )
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def token_revoke(*, actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None or (token.user_id != actor.pk and not actor.is_superuser):
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(
            actor=actor,
            verb="token.revoked",
            object_type="apitoken",
            object_id=token.pk,
            object_repr=str(token),
            after={"revoked_at": token.revoked_at.isoformat()},
        )
    return token


# --- users and the curator role (site administrators) --------------------------------------


def _require_site_administrator(actor, what: str) -> None:
    if not is_site_administrator(actor):
        raise Forbidden(f"Only site administrators {what}.")


def _user_event(actor, user: User, verb: str, before=None, after=None):
    return record_event(
        actor=actor,
        verb=verb,
        object_type="user",
        object_id=user.pk,
        object_repr=user.email,
        before=before,
        after=after,
    )


@transaction.atomic
def user_create(*, actor, email: str, display_name: str = "", password: str | None = None) -> User:
    """A new active user with no role anywhere. ``password=None`` leaves it unusable: they set
    one with "Forgot password?". The password never reaches the audit event."""
    _require_site_administrator(actor, "create users")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            f"{email!r} is not an e-mail address.", details={"email": ["Not an e-mail address."]}
        ) from None
    display_name = (display_name or "").strip()
    if len(display_name) > User._meta.get_field("display_name").max_length:
        raise InvalidInput("The name is too long.", details={"display_name": ["Too long."]})
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(f"A user with e-mail {email} already exists.")
    user = User(email=email, display_name=display_name)
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput(
                "The password is refused: " + " ".join(exc.messages),
                details={"password": exc.messages},
            ) from None
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(f"A user with e-mail {email} already exists.") from None
    _user_event(
        actor,
        user,
        "user.created",
        after={"email": email, "display_name": display_name, "password_set": password is not None},
    )
    return user


def _active_user(email: str) -> User:
    user = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if user is None:
        raise InvalidInput(
            f"No active user with e-mail {email!r}.", details={"user": ["Unknown user."]}
        )
    return user


@transaction.atomic
def curator_set(*, actor, email: str, curator: bool = True) -> tuple[User, bool]:
    """Grant (or revoke) the curator role: the curator group, and ``is_staff`` so they reach the
    checklist admin (revoking clears it, unless they are a site administrator). Returns (user,
    changed); a change writes an event."""
    _require_site_administrator(actor, "grant or revoke the curator role")
    user = User.objects.select_for_update().get(pk=_active_user(email).pk)
    # Created by a migration; read (or made again) here should an administrator have deleted it.
    group, _ = Group.objects.get_or_create(name=CURATOR_GROUP)
    before = {"curator": user.groups.filter(pk=group.pk).exists(), "is_staff": user.is_staff}
    staff = True if curator else user.is_superuser
    after = {"curator": curator, "is_staff": staff}
    if after == before:
        return user, False
    if curator:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    user.is_staff = staff
    user.save(update_fields=["is_staff"])
    _user_event(
        actor,
        user,
        "user.curator_granted" if curator else "user.curator_revoked",
        before=before,
        after=after,
    )
    return user, True
