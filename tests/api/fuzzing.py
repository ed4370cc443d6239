"""What the schemathesis tests share: the live schema loaded from the WSGI app with the
project's ``schemathesis.toml``, and credentials supplied the way schemathesis expects them
(the ``fuzz_token`` fixture in conftest.py, and ``curator_fuzz_token`` in
test_schemathesis_all.py, make them valid)."""

from collections.abc import Iterable
from pathlib import Path

import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.config import SchemathesisConfig

CONFIG_FILE = Path(__file__).resolve().parents[2] / "schemathesis.toml"


# Cases (the coverage phase's among them) get their credentials when they are generated, which
# can be before any fixture runs, so each token is a constant that a fixture makes valid.
FUZZ_TOKEN = "sg_schemathesis-fuzz-token-0123456789abcdefghijk"  # a project lead's
CURATOR_FUZZ_TOKEN = "sg_schemathesis-curator-token-0123456789abcdefg"  # a site admin curator's

# The operations only curators (checklists) and site administrators (projects) may call: with the lead's
# token they answer 403 before reading the body, so their bodies are fuzzed with a curator's.
CURATOR_OPERATIONS = (
    "POST /api/v1/checklists/import/",
    "POST /api/v1/checklists/{slug}/versions/{number}/publish/",
    "POST /api/v1/projects/",
)


def load_schema(token: str = FUZZ_TOKEN):
    """The live schema, with the project's check configuration and a Bearer ``token`` on every
    generated case.

    The token is supplied through an auth provider (``schema.auth()``) rather than as an
    extra header passed to ``case.call``: schemathesis then knows the credentials are real.
    Passed as a bare header, the stateful runner's ``ignored_auth`` check cannot tell them
    from credentials it generated itself and reports the 200 they earn as "API accepts
    invalid authentication" without ever sending a request without them.
    """
    config = SchemathesisConfig.from_path(CONFIG_FILE)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)

    @schema.auth(refresh_interval=None)
    class BearerToken:
        def get(self, case, context):
            return token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


def only(schema, names: Iterable[str]):
    """``schema`` narrowed to the operations called ``names`` ("POST /api/v1/projects/").

    ``schema.include(name=…)`` narrows nothing here: a schema loaded with a configuration that
    has ``[[operations]]`` entries (ours does) carries a catch-all include filter, and
    schemathesis ORs include filters. Excluding every other operation works."""
    wanted = frozenset(names)
    return schema.exclude(lambda ctx: ctx.operation.label not in wanted)
