"""Read-through caching keyed by the head of the audit chain.

Every state change goes through a service that appends an audit event in the same transaction,
and appends are serialised (``record_event`` holds the chain lock until commit), so the newest
event id only grows, and it moves whenever anything changes. A read cached under the id that
was current when it was built can therefore never be served after the data changed: the next
request sees a newer head and builds afresh. Reads that also depend on the clock (an override
that expires) say when they stop being true (``timeout_of``).

``SPECGATE_READ_CACHE_SECONDS`` (default 300; 0 turns the cache off) bounds how long an entry
lives; the cache is Django's (Redis in production). What changes without an event — a user's
name or e-mail edited through the account pages — shows in cached reads within that time.

The key holds the head's hash as well as its id: after a backup is restored, the sequence
hands out again ids that events written after the backup had, but those new events hash
differently (time, content, link), so nothing cached before the restore is served after it.
"""

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from audit.models import Event


def chain_head() -> tuple[int, str]:
    """The id and hash of the newest audit event ((0, "") before the first), in one query
    answered from the primary key's index."""
    return Event.objects.order_by("-id").values_list("id", "hash").first() or (0, "")


def cached_read(
    user,
    parts: tuple,
    build: Callable[[], Any],
    *,
    timeout_of: Callable[[Any], int | None] | None = None,
) -> Any:
    """``build()``, or what it returned for ``user`` and the same ``parts`` since the last
    state change.

    ``parts`` must name everything else the result depends on besides the stored data: the
    object, the full URL of the request. ``timeout_of(value)`` (seconds, or None) shortens the
    life of an entry whose truth runs out with time."""
    limit = getattr(settings, "SPECGATE_READ_CACHE_SECONDS", 300)
    if limit <= 0:
        return build()
    # The reader's site-wide flags are in the key: they change what is visible and are set in
    # the admin, which writes no event.
    reader = (user.pk, user.is_superuser, user.is_staff)
    raw = repr((chain_head(), reader, *parts)).encode()
    key = "read:" + hashlib.sha256(raw).hexdigest()
    value = cache.get(key)
    if value is None:
        value = build()
        timeout = timeout_of(value) if timeout_of else None
        life = limit if timeout is None else min(limit, timeout)
        if life > 0:
            cache.set(key, value, life)
    return value
