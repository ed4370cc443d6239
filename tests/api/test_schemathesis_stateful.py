"""Stateful schemathesis: sequences of calls that follow the links schemathesis infers from the
live schema (list reviews, then read, answer, raise and resolve findings on one; create a spec,
then post its revisions; …), with every check on, against the WSGI app.

Bounded (40 sequences of up to 10 calls, derandomized) so it runs in well under a minute."""

from hypothesis import HealthCheck, settings

from tests.api.fuzzing import load_schema

# Revoking tokens would revoke the one the sequences authenticate with (a link hands the first
# token of GET /tokens/ to revoke, and small random ids hit it), leaving every later call a
# 401; test_schemathesis_all.py covers those two operations with a fresh token each.
schema = load_schema().exclude(
    name=["DELETE /api/v1/tokens/{id}/", "POST /api/v1/tokens/{id}/revoke/"]
)
APIWorkflow = schema.as_state_machine()


def test_api_call_sequences_with_every_check(fuzz_token):
    APIWorkflow.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
