"""Template syntax that Django does not read as syntax: it reaches the reader as text.

Django recognises ``{# … #}``, ``{% … %}`` and ``{{ … }}`` only on one line; one that spans
lines is plain text and is shown on the page as it is (``{# The dashboard's content: … #}`` on
every dashboard). Multi-line comments are ``{% comment %}…{% endcomment %}``.
"""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.template.base import Lexer, TokenType

from reviews.services import review_submit
from tests.reviews.factories import make_world

OPENERS = ("{#", "{%", "{{")


def _our_template_dirs() -> list[Path]:
    """The project's template directories: settings' DIRS and our apps' ``templates/``
    (third-party apps' templates are theirs)."""
    base = Path(settings.BASE_DIR).resolve()
    dirs = [Path(d) for conf in settings.TEMPLATES for d in conf.get("DIRS", [])]
    dirs += [Path(app.path) / "templates" for app in apps.get_app_configs()]
    return sorted({d.resolve() for d in dirs if d.is_dir() and d.resolve().is_relative_to(base)})


def _templates() -> list[Path]:
    return sorted(
        path
        for directory in _our_template_dirs()
        for path in directory.rglob("*")
        if path.is_file() and path.suffix in {".html", ".txt", ".md", ".xml", ".csv"}
    )


def syntax_shown_as_text(source: str) -> list[str]:
    """Every ``{#``, ``{%`` or ``{{`` that Django leaves in the text (a construct spanning lines,
    or one never closed), as "line N: …"."""
    found = []
    for token in Lexer(source).tokenize():
        if token.token_type is not TokenType.TEXT:
            continue
        for offset, line in enumerate(token.contents.split("\n")):
            if any(opener in line for opener in OPENERS):
                found.append(f"line {token.lineno + offset}: {line.strip()[:80]}")
    return found


def test_the_scan_finds_a_comment_spanning_lines():
    assert syntax_shown_as_text("<p>a</p>\n{# one\n two #}\n") == ["line 2: {# one"]
    assert syntax_shown_as_text("{% if x %}\n{{ a\n}}{% endif %}") == ["line 2: {{ a"]
    assert syntax_shown_as_text("{# one line #}{% comment %}\ntwo\n{% endcomment %}") == []


def test_no_template_shows_its_syntax_as_text():
    templates = _templates()
    assert len(templates) > 20  # the scan reads the project's templates, not an empty list
    problems = {
        str(path.relative_to(settings.BASE_DIR)): found
        for path in templates
        if (found := syntax_shown_as_text(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


@pytest.mark.django_db
def test_the_dashboard_shows_no_template_syntax(client):
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    for user in (world.reviewer, world.lead, world.author):
        client.force_login(user)
        body = client.get("/").content.decode()
        assert "My reviews to do" in body
        assert "{#" not in body and "#}" not in body
        assert "The dashboard's content" not in body
