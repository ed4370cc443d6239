import json
import logging

import pytest
from django.db import connection
from django.db.utils import OperationalError


def test_healthz_answers_json_without_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_readyz_answers_503_when_database_unreachable(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_request_id_is_made_when_absent(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32


def test_request_id_is_echoed_when_given(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.xyz"})
    assert response["X-Request-ID"] == "abc-123.xyz"


def test_unsafe_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\r\ninjected"})
    assert response["X-Request-ID"] != "bad id\r\ninjected"
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_log_lines_carry_the_request_id(client, caplog):
    from config.logging import RequestIDFilter

    caplog.handler.addFilter(RequestIDFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/no-such-page/", headers={"X-Request-ID": "trace-me-42"})
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.request_id == "trace-me-42" for r in records)


def test_json_log_formatter_emits_request_id():
    from config.settings.base import build_logging

    config = build_logging("json", "INFO")
    formatter_conf = config["formatters"]["json"]
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(formatter_conf["fmt"], rename_fields=formatter_conf["rename_fields"])
    record = logging.LogRecord("specgate", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id = "rid-1"
    line = json.loads(formatter.format(record))
    assert line["message"] == "hello"
    assert line["request_id"] == "rid-1"
    assert line["level"] == "INFO"


def test_api_404_uses_error_body(client, db):
    response = client.get("/api/v1/does-not-exist/", headers={"X-Request-ID": "r-404"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["request_id"] == "r-404"
