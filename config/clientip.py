"""The client's address behind ``SPECGATE_TRUSTED_PROXY_COUNT`` proxies.

Each trusted proxy appends the address it received the request from to X-Forwarded-For, so
the client is the entry that many places from the right; anything further left was written
by the client and may be forged. With no trusted proxy X-Forwarded-For is ignored and the
client is REMOTE_ADDR. This is the rule allauth (ALLAUTH_TRUSTED_PROXY_COUNT) and DRF
(NUM_PROXIES) apply with the same count, which settings give them; gunicorn's access log uses
it too (config/gunicorn.py), so no Django import here.
"""


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted: int) -> str:
    """``remote_addr`` with no trusted proxy or no X-Forwarded-For; otherwise the entry of
    ``forwarded_for`` ``trusted`` places from the right (its first when it is shorter)."""
    if trusted <= 0 or not forwarded_for:
        return remote_addr or "-"
    entries = [entry.strip() for entry in forwarded_for.split(",")]
    return entries[-min(trusted, len(entries))] or remote_addr or "-"
