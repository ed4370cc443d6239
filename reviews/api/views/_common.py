"""Helpers shared by the reviews API views."""

import re

from django.shortcuts import get_object_or_404

from config.errors import PreconditionFailed
from reviews.models import Review
from reviews.permissions import reviews_visible_to

ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def visible_review(user, pk) -> Review:
    """The review if ``user`` may see it (404 otherwise), with what services and serializers read."""
    return get_object_or_404(
        reviews_visible_to(user).select_related("spec__project", "spec__author", "created_by"),
        pk=pk,
    )


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(request, current: int, current_state) -> int | None:
    """The version named by ``If-Match`` (``"3"``, ``W/"3"`` or ``3``), or None without the
    header. A header that does not name the current version answers 412."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    candidates = []
    for part in header.split(","):
        match = ETAG_RE.match(part)
        if match:
            candidates.append(int(match.group(1)))
    if current not in candidates:
        raise PreconditionFailed(
            f"If-Match {header.strip()[:40]!r} does not match the current version {current}.",
            details={"current": current_state() if callable(current_state) else current_state},
        )
    return current
