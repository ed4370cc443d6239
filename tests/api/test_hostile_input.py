"""Hostile input answers 400 with the error envelope, never 500, on every operation the live
OpenAPI schema lists: JSON nested past Python's recursion limit (RecursionError), text with
NUL (PostgreSQL's DataError) in a JSON body, a query parameter, a path or a form.

The operations come from the schema, so an endpoint added later is covered without editing
this file; each is called by someone allowed to call it, on objects that exist, so that the
body is read. Run on PostgreSQL too: DataError is PostgreSQL's."""

import json
from urllib.parse import quote

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.services import token_create
from config.api import MAX_JSON_DEPTH
from reviews.services import finding_raise, review_submit
from tests.accounts.factories import UserFactory
from tests.api.conftest import assert_error
from tests.reviews.factories import make_version, make_world

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in SCHEMA["paths"].items()
    for method, operation in methods.items()
]
WRITES = [(m, p, op) for m, p, op in OPERATIONS if m in ("POST", "PUT", "PATCH", "DELETE")]
JSON_WRITES = [
    (m, p, op)
    for m, p, op in WRITES
    if "application/json" in op.get("requestBody", {}).get("content", {})
]
QUERIES = [
    (p, parameter["name"])
    for m, p, op in OPERATIONS
    if m == "GET"
    for parameter in op.get("parameters", [])
    if parameter["in"] == "query"
]
# Operations only a curator (checklists) or a site administrator (projects) may call.
ADMIN_PREFIXES = ("POST /api/v1/checklists/", "POST /api/v1/projects/")


def label(method, path):
    return f"{method} {path}"


def test_the_schema_lists_the_operations_this_file_fuzzes():
    """A guard against enumerating nothing: the schema really lists the API's writes."""
    writes = {label(m, p) for m, p, _ in JSON_WRITES}
    assert {
        "POST /api/v1/reviews/",
        "PATCH /api/v1/reviews/{id}/responses/",
        "POST /api/v1/checklists/import/",
        "POST /api/v1/projects/",
    } <= writes
    assert len(JSON_WRITES) >= 20 and len(QUERIES) >= 30


@pytest.fixture
def scene(db):
    """Objects for every path parameter, and tokens for whoever may call each operation."""
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    finding = finding_raise(
        actor=world.reviewer, review=world.review, severity="suggestion", title="A finding"
    )
    draft = make_version(slug="hostile-draft", number=1, status="draft")
    admin = UserFactory(is_staff=True, is_superuser=True, curator=True)
    lead_token = token_create(actor=world.lead, name="hostile")
    from webhooks.models import Webhook

    webhook = Webhook.objects.create(
        project=world.project,
        url="https://hooks.example.com/specgate",
        secret="s" * 32,
        events=["review.submitted"],
        created_by=world.lead,
    )
    values = {
        ("reviews", "id"): world.review.pk,
        ("specs", "id"): world.spec.pk,
        ("tokens", "id"): lead_token.token.pk,
        ("webhooks", "id"): webhook.pk,
        ("projects", "slug"): world.project.slug,
        ("checklists", "slug"): draft.template.slug,
        ("checklists", "number"): draft.number,
        ("reviews", "finding_id"): finding.pk,
        ("reviews", "item_id"): world.review.responses.first().item_id,
        ("reviews", "email"): world.reviewer.email,
        ("projects", "email"): world.reviewer.email,
        ("webhooks", "delivery_id"): 999_999,
    }
    return {
        "values": values,
        "lead": lead_token.raw,
        "admin": token_create(actor=admin, name="hostile admin").raw,
    }


def url_of(scene, method, path, replace=None):
    """``path`` with its parameters filled from the scene (or ``replace``)."""
    collection = path.split("/")[3]
    params = {
        segment[1:-1]
        for segment in path.replace("}", "}/").split("/")
        if segment.startswith("{") and segment.endswith("}")
    }
    for name in params:
        value = (replace or {}).get(name, scene["values"].get((collection, name)))
        assert value is not None, f"no value for {{{name}}} in {method} {path}"
        path = path.replace(f"{{{name}}}", quote(str(value), safe=""))
    return path


def call(client, scene, method, path, body: bytes, content_type="application/json"):
    token = scene["admin"] if label(method, path).startswith(ADMIN_PREFIXES) else scene["lead"]
    return client.generic(
        method,
        url_of(scene, method, path),
        body,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


HOSTILE_BODIES = {
    "open arrays": b"[" * 100_000,
    "open objects": b'{"a":' * 100_000,
    "closed arrays": b"[" * 5_000 + b"]" * 5_000,  # valid JSON, under no recursion limit
    "closed objects": b'{"a":' * 2_000 + b"1" + b"}" * 2_000,
    "just too deep": b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1),
}


@pytest.mark.parametrize("shape", list(HOSTILE_BODIES))
@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _ in JSON_WRITES],
    ids=[label(m, p) for m, p, _ in JSON_WRITES],
)
def test_deep_json_is_400_on_every_write(api_client, scene, method, path, shape):
    error = assert_error(
        call(api_client, scene, method, path, HOSTILE_BODIES[shape]), 400, "parse_error"
    )
    assert "nested more than" in error["message"]
    assert error["details"] == {"max_depth": MAX_JSON_DEPTH}


def test_json_as_deep_as_allowed_is_read(api_client, scene):
    """The depth limit itself: a body at the limit reaches the serializer (400 naming a field
    of the operation, not a parse error)."""
    nested = "1"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = f'{{"a":{nested}}}'
    body = f'{{"comment":{nested}}}'.encode()
    review = scene["values"][("reviews", "id")]
    response = api_client.post(
        f"/api/v1/reviews/{review}/withdraw/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {scene['lead']}",
    )
    assert "comment" in assert_error(response, 400, "invalid")["details"]


def properties(operation) -> list[str]:
    """The properties of the operation's JSON request body, as the schema states them."""
    ref = operation["requestBody"]["content"]["application/json"]["schema"].get("$ref", "")
    component = SCHEMA["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return list(component.get("properties", {}))


@pytest.mark.parametrize(
    ("method", "path", "operation"), JSON_WRITES, ids=[label(m, p) for m, p, _ in JSON_WRITES]
)
def test_nul_in_any_json_property_is_400_naming_it(api_client, scene, method, path, operation):
    """PostgreSQL stores no NUL: each property of each write, given text with NUL, is refused
    by the field that reads it, named in ``details``, before anything is written. (Properties
    no serializer declares are ignored, as the schema allows.)"""
    names = properties(operation)
    assert names, f"{method} {path}: the schema states no properties"
    for name in names:
        body = json.dumps({name: "before\x00after"}).encode()
        error = assert_error(call(api_client, scene, method, path, body), 400)
        assert name in error["details"], (method, path, name, error)


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in WRITES], ids=[label(m, p) for m, p, _ in WRITES]
)
def test_no_write_answers_500_to_hostile_bodies(api_client, scene, method, path):
    """Operations without a JSON body too (DELETE, revoke, redeliver) ignore or refuse one."""
    for body in HOSTILE_BODIES.values():
        response = call(api_client, scene, method, path, body)
        assert response.status_code < 500, (method, path, response.content[:200])


@pytest.mark.parametrize(("path", "name"), QUERIES, ids=[f"{p}?{n}" for p, n in QUERIES])
def test_nul_in_any_query_parameter_is_400(api_client, scene, path, name):
    url = url_of(scene, "GET", path)
    response = api_client.get(f"{url}?{name}=a%00b", HTTP_AUTHORIZATION=f"Bearer {scene['lead']}")
    error = assert_error(response, 400, "invalid")
    assert repr(name) in error["message"] and name in error["details"]


def test_nul_in_a_query_parameter_the_schema_does_not_list(api_client, scene):
    review = scene["values"][("reviews", "id")]
    for url in ["/api/v1/reviews/", f"/api/v1/reviews/{review}/responses/"]:
        for query in ["verdict=%00", "%00=1", "state=pass&q=x%00"]:
            response = api_client.get(
                f"{url}?{query}", HTTP_AUTHORIZATION=f"Bearer {scene['lead']}"
            )
            assert_error(response, 400, "invalid")


GET_PATHS = [p for m, p, _ in OPERATIONS if m == "GET" and "{" in p]


@pytest.mark.parametrize("path", GET_PATHS)
def test_nul_in_any_path_parameter_is_400(api_client, scene, path):
    params = [s[1:-1] for s in path.replace("}", "}/").split("/") if s.startswith("{")]
    for name in params:
        url = url_of(scene, "GET", path, replace={name: "a\x00b"})
        response = api_client.get(url, HTTP_AUTHORIZATION=f"Bearer {scene['lead']}")
        assert "path" in assert_error(response, 400, "invalid")["details"]


# --- browser pages and forms --------------------------------------------------------------


def test_nul_in_a_browser_form_is_a_400_page(client, scene):
    for path, data in [
        ("/accounts/login/", {"login": "lead\x00@example.com", "password": "x"}),
        ("/accounts/signup/", {"email": "a\x00@example.com", "password1": "x", "password2": "x"}),
        ("/accounts/password/reset/", {"email": "a\x00@example.com"}),
    ]:
        response = client.post(path, data)
        assert response.status_code == 400, (path, response.status_code)
        body = response.content.decode()
        assert "NUL" in body and "<h1>Error 400</h1>" in body
        assert response["Content-Security-Policy"]


def test_nul_in_a_browser_query_or_an_api_form_is_400(client, scene):
    world_review = scene["values"][("reviews", "id")]
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    for url in ["/projects/?q=%00", f"/reviews/{world_review}/?filter=%00", "/checklists/?q=a%00"]:
        assert client.get(url).status_code == 400, url
    api = client.post("/api/v1/checklists/import/", {"slug": "x\x00", "content": "- a"})
    assert "slug" in assert_error(api, 400, "invalid")["details"]


def test_the_schema_says_path_and_query_text_excludes_nul():
    """What the schema promises matches what is refused (schemathesis holds it to that)."""
    from jsonschema import Draft4Validator

    for method, path, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] not in ("path", "query") or schema.get("type") != "string":
                continue
            if "enum" in schema or schema.get("format") == "date-time":
                continue
            assert not Draft4Validator(schema).is_valid("a\x00b"), (method, path, parameter)
