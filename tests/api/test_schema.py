"""The OpenAPI schema generates without warnings and covers the contract."""

import pytest
import yaml
from django.core.management import call_command

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
