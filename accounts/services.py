"""Writes for accounts: personal API tokens."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, hash_token
from audit.services import record_event
from config.errors import Forbidden, InvalidInput, NotFound

MAX_TOKEN_DAYS = 3650


@dataclass
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, never stored


@transaction.atomic
def token_create(
    *, actor, name: str, read_only: bool = False, expires_in_days: int | None = 90
) -> IssuedToken:
    """Issue a personal token for ``actor``. The raw token is returned once; only its hash is kept."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise Forbidden("Only active users create API tokens.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            "A token needs a name of 1 to 100 characters.",
            details={"name": ["1 to 100 characters."]},
        )
    expires_at = None
    if expires_in_days is not None:
        if not isinstance(expires_in_days, int) or not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidInput(
                f"Expiry must be 1 to {MAX_TOKEN_DAYS} days.",
                details={"expires_in_days": [f"1 to {MAX_TOKEN_DAYS}."]},
            )
        expires_at = timezone.now() + timedelta(days=expires_in_days)
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
            "expires_at": expires_at.isoformat() if expires_at else None,
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
