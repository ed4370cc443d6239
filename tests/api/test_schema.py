"""The OpenAPI schema generates without warnings and covers the contract."""

import pytest
import yaml
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in [
        "/api/v1/projects/",
        "/api/v1/projects/{slug}/members/",
        "/api/v1/checklists/import/",
        "/api/v1/checklists/{slug}/versions/{number}/publish/",
        "/api/v1/specs/",
        "/api/v1/specs/{id}/revisions/",
        "/api/v1/reviews/",
        "/api/v1/reviews/{id}/responses/{item_id}/",
        "/api/v1/reviews/{id}/findings/{finding_id}/resolve/",
        "/api/v1/reviews/{id}/approve/",
        "/api/v1/reviews/{id}/gate/",
        "/api/v1/reviews/{id}/report/",
        "/api/v1/events/",
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver/",
    ]:
        assert path in paths, path
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    approve = paths["/api/v1/reviews/{id}/approve/"]["post"]["responses"]
    assert approve["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def _schema(tmp_path) -> dict:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_request_bodies_are_json_except_the_checklist_import(tmp_path):
    for path, operations in _schema(tmp_path)["paths"].items():
        for method, operation in operations.items():
            media = set(operation.get("requestBody", {}).get("content", {}))
            if path == "/api/v1/checklists/import/":
                assert media == {"application/json", "multipart/form-data", "text/markdown"}
            else:
                assert media <= {"application/json"}, (method, path, media)


def test_patch_bodies_keep_their_required_fields(tmp_path):
    """Our views validate PATCH bodies with the full serializer, so ``{}`` is refused."""
    schema = _schema(tmp_path)
    batch = schema["paths"]["/api/v1/reviews/{id}/responses/"]["patch"]["requestBody"]
    assert batch["required"] is True
    ref = batch["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    component = schema["components"]["schemas"][ref]
    assert component["required"] == ["responses"]
    assert component["properties"]["responses"]["minItems"] == 1
    assert not any(name.startswith("Patched") for name in schema["components"]["schemas"])


TEXT_FIELDS = st.builds(
    dict,
    allow_blank=st.booleans(),
    trim_whitespace=st.booleans(),
    min_length=st.none() | st.integers(0, 4),
    max_length=st.none() | st.integers(0, 6),
)
TEXT = st.text(st.sampled_from(["a", "é", " ", "\t", "\x1e", "\u3000", "\x00", "\x85"]), max_size=9)


@given(options=TEXT_FIELDS, value=TEXT)
def test_a_text_fields_schema_accepts_exactly_what_drf_accepts(options, value):
    """The request schema of a CharField (pattern, lengths) and DRF's own validation agree on
    every text, whitespace (as str.strip sees it) and NUL included."""
    from drf_spectacular.openapi import AutoSchema as Upstream
    from jsonschema import Draft4Validator
    from rest_framework import serializers

    from config.schema import AutoSchema

    field = serializers.CharField(**options)
    field.bind("text", serializers.Serializer())
    auto = AutoSchema()
    auto._direction = "request"
    schema = Upstream._map_serializer_field(auto, field, "request")
    auto._insert_field_validators(field, schema)
    try:
        field.run_validation(value)
        accepted = True
    except serializers.ValidationError:
        accepted = False
    assert Draft4Validator(schema).is_valid(value) == accepted, (schema, value)
