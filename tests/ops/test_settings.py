import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


STRONG_KEY = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"


def test_production_refuses_to_start_without_secret_key():
    result = run_manage(
        "check", env_overrides={"DJANGO_SETTINGS_MODULE": "config.settings.production"}
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage(
        "check",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "short",
        },
    )
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_production_passes_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": STRONG_KEY,
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_quickstart_refuses_production_settings():
    result = run_manage(
        "quickstart",
        "--no-serve",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": STRONG_KEY,
        },
    )
    assert result.returncode != 0
    assert "Refusing to create demo users" in result.stderr


def test_bad_boolean_in_environment_is_named():
    result = run_manage(
        "check",
        env_overrides={"DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "maybe"},
    )
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgres://u:p@db.example:5432/specgate", "django.db.backends.postgresql"),
        ("sqlite:////tmp/x.sqlite3", "django.db.backends.sqlite3"),
    ],
)
def test_database_url_selects_engine(url, engine):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        env_overrides={"DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": url},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == engine


PROXY_SETTINGS = (
    "from django.conf import settings; print(settings.SPECGATE_TRUSTED_PROXY_COUNT, "
    "settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.REST_FRAMEWORK['NUM_PROXIES'])"
)


@pytest.mark.parametrize(("value", "expected"), [(None, "0 0 0"), ("2", "2 2 2")])
def test_the_trusted_proxy_count_feeds_allauth_and_drf(value, expected):
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": STRONG_KEY}
    if value is not None:
        env["SPECGATE_TRUSTED_PROXY_COUNT"] = value
    result = run_manage("shell", "-c", PROXY_SETTINGS, env_overrides=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


@pytest.mark.parametrize("value", ["-1", "one"])
def test_a_bad_trusted_proxy_count_is_named(value):
    result = run_manage(
        "check",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "SPECGATE_TRUSTED_PROXY_COUNT": value,
        },
    )
    assert result.returncode != 0
    assert "SPECGATE_TRUSTED_PROXY_COUNT" in result.stderr
