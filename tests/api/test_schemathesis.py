"""Property-based API tests from the OpenAPI schema (schemathesis), bounded to a few operations
and examples so they run in CI: no generated input may make the API answer 5xx, and answers
must match the schema's status codes and shapes."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import token_create
from reviews.services import review_submit
from tests.reviews.factories import make_world

OPERATIONS = (
    r"^/api/v1/(reviews|specs|projects|events|checklists|webhooks|tokens)/$"
    r"|^/api/v1/reviews/\{id\}/(gate|responses|findings|signoffs)/$"
    r"|^/api/v1/reviews/\{id\}/responses/\{item_id\}/$"
)


# ``exclude`` rather than ``include(path_regex=…)``: with the project's schemathesis.toml
# (found in the working directory) an include filter narrows nothing (see fuzzing.only), and
# every operation ran here with 8 examples.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()).exclude(
    lambda ctx: not re.search(OPERATIONS, ctx.operation.path)
)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calls go straight to the WSGI app, so Django would close the test's database connection
    (and its transaction) after each one; the test client avoids that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def lead_token(db):
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    return token_create(actor=world.lead, name="fuzz").raw


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, lead_token):
    response = case.call(headers={"Authorization": f"Bearer {lead_token}"})
    case.validate_response(
        response,
        checks=(not_a_server_error, status_code_conformance, response_schema_conformance),
    )
