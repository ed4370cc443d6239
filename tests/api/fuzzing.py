"""What the schemathesis tests share: the live schema loaded from the WSGI app with the
project's ``schemathesis.toml``, and credentials supplied the way schemathesis expects them
(the ``fuzz_token`` fixture in conftest.py makes them valid)."""

from pathlib import Path

import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.config import SchemathesisConfig

CONFIG_FILE = Path(__file__).resolve().parents[2] / "schemathesis.toml"


# Cases (the coverage phase's among them) get their credentials when they are generated, which
# can be before any fixture runs, so the token is a constant that ``fuzz_token`` makes valid.
FUZZ_TOKEN = "sg_schemathesis-fuzz-token-0123456789abcdefghijk"


def load_schema():
    """The live schema, with the project's check configuration and a Bearer token on every
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
            return FUZZ_TOKEN

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema
