"""Every operation of the live schema, every schemathesis check, a few examples each; then the
curators' and site administrators' operations again with a site administrator's token, so that their bodies are
fuzzed too (the lead's token gets 403 before the body is read).

Nothing is excluded: `positive_data_acceptance` and `negative_data_rejection` hold because the
schema states what the API enforces (see config/schema.py, config/api.py) and the few
operations whose rules depend on stored data may also answer 400 to schema-valid bodies, as
schemathesis.toml lists with the reason for each. No operation may answer 5xx
(`not_a_server_error`)."""

import pytest
from hypothesis import HealthCheck, settings

from accounts.models import ApiToken, hash_token
from accounts.services import token_create
from config.api import ImportThrottle
from tests.accounts.factories import UserFactory
from tests.api.fuzzing import CURATOR_FUZZ_TOKEN, CURATOR_OPERATIONS, load_schema, only
from tests.reviews.factories import make_version

schema = load_schema()
curator_schema = only(load_schema(CURATOR_FUZZ_TOKEN), CURATOR_OPERATIONS)


@schema.parametrize()
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_with_every_check(case, fuzz_token):
    case.call_and_validate()


@pytest.fixture
def curator_fuzz_token(db, keep_the_test_connection, monkeypatch):
    """``CURATOR_FUZZ_TOKEN`` becomes a curator and site administrator's read-write token
    (curators import and publish checklists, site administrators create projects: ``is_staff``
    gives no power over projects), and there is a draft to publish. The import
    budget (30 a minute) would answer 429 to most examples: it is lifted here."""
    monkeypatch.setattr(ImportThrottle, "rate", "100000/min", raising=False)
    curator = UserFactory(is_staff=True, is_superuser=True, curator=True)
    issued = token_create(actor=curator, name="fuzz curator")
    ApiToken.objects.filter(pk=issued.token.pk).update(
        key_hash=hash_token(CURATOR_FUZZ_TOKEN), prefix=CURATOR_FUZZ_TOKEN[:10]
    )
    make_version(slug="fuzz-draft", number=1, status="draft")
    return curator


def _positive(case) -> bool:
    """Generated valid in every part (a case's own mode can say positive while its body is
    a negative mutation)."""
    meta = case.meta
    return bool(meta) and all(
        info.mode.is_positive for info in (meta.generation, *meta.components.values())
    )


@curator_schema.parametrize()
@settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_curator_operations_with_every_check(case, curator_fuzz_token):
    # Publishing addresses a draft by slug and number; random ones are never found (404), so
    # the body would never be read. A case generated valid (positive) names the fixture's draft
    # instead: the first such call publishes it, later ones are refused (409). Cases with any
    # negative part keep their paths: schemathesis counts some valid bodies as negative (``{}``
    # here, "object with only required properties"), and a path override in schemathesis.toml
    # would also replace invalid paths; either would be reported as accepted invalid data.
    if case.operation.label == CURATOR_OPERATIONS[1] and _positive(case):
        case.path_parameters = {"slug": "fuzz-draft", "number": "1"}
    case.call_and_validate()
