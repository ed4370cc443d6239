"""Where a webhook may go, and the one HTTP client that goes there.

Server-side request forgery: a webhook URL is chosen by a project lead and fetched by our worker
from inside the network, so it must not reach loopback, private, link-local or otherwise internal
addresses (cloud metadata at 169.254.169.254, the database on localhost:5432, …). The host is
resolved once, every address it resolves to is checked, and the connection goes to the checked
address (the Host header and TLS SNI/certificate check keep the original name), so a DNS answer
that changes between the check and the connection (rebinding) cannot redirect it. Redirects are
never followed. ``SPECGATE_WEBHOOK_ALLOWED_HOSTS`` names hosts that may be internal (on-premises
receivers); everything else about them is checked the same way.

What a failed attempt records is deliberately coarse: a target refused by this policy is never
connected to, and every connection failure reads the same ("could not connect"), so the
deliveries list cannot be used to map ports.
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "Specgate-Webhooks/1"
EXCERPT_CHARS = 200  # of a real receiver's answer; nothing is kept for a refused target

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052/8215).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class Refused(Exception):
    """The URL may not be used as a webhook target; the message says why (no path, no query)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as the receiver knows itself: Host header, TLS SNI and certificate name
    port: int
    path: str  # path and query, sent in the request line
    addresses: tuple  # every checked (family, sockaddr) the host resolved to


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    excerpt: str
    error: str
    connected: bool  # False: nothing was sent (refused by policy, resolution or connect failed)


def allowed_hosts() -> set[str]:
    return {_normal_host(h) for h in getattr(settings, "SPECGATE_WEBHOOK_ALLOWED_HOSTS", []) if h}


def connect_timeout() -> float:
    return float(getattr(settings, "SPECGATE_WEBHOOK_CONNECT_TIMEOUT", 3))


def read_timeout() -> float:
    return float(getattr(settings, "SPECGATE_WEBHOOK_READ_TIMEOUT", 5))


def attempt_seconds() -> float:
    """The longest one attempt can take (resolving and connecting, then the answer)."""
    return 2 * connect_timeout() + read_timeout()


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what may be shown in events and logs. The path and the
    query (often a credential: ``/hooks/T0/B0/XXXX``, ``?token=…``) never are."""
    try:
        parts = urlsplit(url or "")
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _normal_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def internal_reason(address: str) -> str | None:
    """Why an IP address is not a public one, or None if it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and any(ip in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return internal_reason(str(embedded))
        if ip.is_site_local:
            return "a site-local address"
    for attribute, reason in (
        ("is_unspecified", "the unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, attribute):
            return reason
    if not ip.is_global:
        return "a non-public address"
    return None


def _resolve(host: str, port: int) -> list[tuple]:
    """(family, sockaddr) for every address of ``host``; numeric spellings of IPv4 addresses
    (``2130706433``, ``0177.0.0.1``, ``127.1``) resolve like the C library reads them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen, found = set(), []
    for family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.add(sockaddr[0])
            found.append((family, sockaddr))
    return found


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a webhook URL, or ``Refused`` naming what is wrong."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(f"it is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("it must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise Refused("it must not carry a user name or password (put a token in the path)")
    host = _normal_host(parts.hostname or "")
    if not host:
        raise Refused("it has no host")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("its host name is not valid") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def check(url: str, *, must_resolve: bool = True) -> Target:
    """Parse, resolve and check a webhook URL; ``Refused`` if it may not be used.

    With ``must_resolve=False`` (subscribing) a host that does not resolve now is accepted:
    it is not internal now, and every delivery checks it again."""
    scheme, host, port, path = parse(url)
    allowed = host in allowed_hosts()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not allowed and (reason := internal_reason(host)):
        raise Refused(f"its host {host} is {reason}")
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError):
        if must_resolve:
            raise Refused(f"its host {host} does not resolve") from None
        addresses = []
    if not allowed:
        for _family, sockaddr in addresses:
            # Which address is not said: the error is no oracle for the internal DNS.
            if reason := internal_reason(sockaddr[0]):
                raise Refused(
                    f"its host {host} resolves to {reason} (an on-premises install may allow "
                    "a named internal host with SPECGATE_WEBHOOK_ALLOWED_HOSTS)"
                )
    return Target(scheme, host, port, path, tuple(addresses))


# --- the client --------------------------------------------------------------------------------


def _open_socket(family: int, sockaddr: tuple, timeout: float) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address, whatever the host name resolves to now."""

    def __init__(self, target: Target, address: tuple):
        super().__init__(target.host, target.port, timeout=read_timeout())
        self._address = address

    def connect(self):
        family, sockaddr = self._address
        self.sock = _open_socket(family, sockaddr, connect_timeout())
        self.sock.settimeout(self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedTLSConnection(_PinnedConnection):
    default_port = 443

    def connect(self):
        super().connect()
        context = ssl.create_default_context()
        # The handshake runs on ``self.sock`` so that the attempt's deadline can cut it.
        self.sock = context.wrap_socket(
            self.sock, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.sock.do_handshake()


MAX_ADDRESSES_TRIED = 2


def post(target: Target, body: bytes, headers: dict) -> Answer:
    """POST ``body`` to the target's checked address(es). The whole attempt is bounded by
    ``attempt_seconds()``, even against a receiver that trickles its answer byte by byte."""
    if not target.addresses:
        return Answer(None, "", "Could not resolve the host.", False)
    factory = _PinnedTLSConnection if target.scheme == "https" else _PinnedConnection
    current: dict = {}
    deadline = threading.Timer(attempt_seconds(), _cut, args=(current,))
    deadline.daemon = True
    deadline.start()
    try:
        for address in target.addresses[:MAX_ADDRESSES_TRIED]:
            current["connection"] = connection = factory(target, address)
            try:
                connection.connect()
                break
            except ssl.SSLError:
                return Answer(None, "", "TLS handshake failed.", True)
            except OSError:
                connection.close()
                current.clear()
        else:
            return Answer(None, "", "Could not connect to the receiver.", False)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read(EXCERPT_CHARS * 4)
        except (OSError, http.client.HTTPException, ValueError):
            return Answer(None, "", "No answer from the receiver in time.", True)
        if current.get("cut"):  # an answer cut short by the deadline is no answer
            return Answer(None, "", "No answer from the receiver in time.", True)
    finally:
        deadline.cancel()
        if "connection" in current:
            current["connection"].close()
    status = response.status
    error = "" if 200 <= status < 300 else f"HTTP {status}"
    if 300 <= status < 400:
        error += " (redirects are not followed)"
    return Answer(status, raw.decode("utf-8", "replace")[:EXCERPT_CHARS], error, True)


def _cut(current: dict) -> None:
    """The attempt ran out of time: shut its socket down, which unblocks the reading thread."""
    current["cut"] = True
    connection = current.get("connection")
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
