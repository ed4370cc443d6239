"""Every operation of the live schema, every schemathesis check, a few examples each.

Nothing is excluded: `positive_data_acceptance` and `negative_data_rejection` hold because the
schema states what the API enforces (see config/schema.py, config/api.py) and the few
operations whose rules depend on stored data may also answer 400 to schema-valid bodies, as
schemathesis.toml lists with the reason for each."""

from hypothesis import HealthCheck, settings

from tests.api.fuzzing import load_schema

schema = load_schema()


@schema.parametrize()
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_with_every_check(case, fuzz_token):
    case.call_and_validate()
