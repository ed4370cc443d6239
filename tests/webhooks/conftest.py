import socket

import pytest

from tests.api.conftest import as_user, world  # noqa: F401 (fixtures)
from tests.webhooks.receiver import receivers


@pytest.fixture
def receiver(settings):
    yield from receivers(settings)


@pytest.fixture
def fake_dns(monkeypatch):
    """``fake_dns({"name.example": ["93.184.216.34", …] or a callable})``: what the C library's
    resolver answers for these names (a callable is asked on every look-up, so an answer can
    change between two look-ups, as DNS rebinding does). Other names resolve as usual.
    ``fake_dns.lookups`` counts the look-ups per name."""
    real = socket.getaddrinfo
    answers: dict = {}
    lookups: dict = {}

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, family, type, proto, flags)
        lookups[name] = lookups.get(name, 0) + 1
        addresses = answers[name]
        if callable(addresses):
            addresses = addresses()
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result = []
        for address in addresses:
            if ":" in address:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def configure(mapping):
        answers.update(mapping)
        return configure

    configure.lookups = lookups
    return configure
