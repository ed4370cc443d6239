"""Two checklists with the same title can be told apart wherever one is picked (issue 16, 14):
slug and version on the review form and in the library; every import path warns of the clash."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from checklists.services import checklist_import
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_version, make_world

pytestmark = pytest.mark.django_db

DOC = """---
title: API review
---

# Contract

- Errors are specified for every endpoint
"""


@pytest.fixture
def twins(db):
    """The world's checklist and a second one with the same title under another slug."""
    world = make_world()
    other = make_version(slug="api-review-payments", number=3)
    other.template.title = world.version.template.title
    other.template.save()
    return world, other


def test_review_form_names_slug_and_version(twins, client):
    world, other = twins
    client.force_login(world.author)
    body = client.get(reverse("reviews:spec", args=[world.spec.pk])).content.decode()
    title = world.version.template.title
    assert f"{title} ({world.version.template.slug}) v1" in body
    assert f"{title} (api-review-payments) v3" in body


def test_library_rows_show_the_slug(twins, client):
    world, _ = twins
    client.force_login(world.reviewer)
    body = client.get(reverse("checklists:library")).content.decode()
    assert "<code>api-review-payments</code>" in body
    assert f"<code>{world.version.template.slug}</code>" in body


def test_service_warns_when_the_title_is_taken(curator):
    make_version(slug="api-review-core").template.__class__.objects.filter(
        slug="api-review-core"
    ).update(title="API review")
    result = checklist_import(actor=curator, data=DOC, source_name="api.md", slug="api-v2")
    assert result.created
    (warning,) = result.warnings
    assert "API review" in warning and "api-review-core" in warning
    # Importing under the slug that owns the title is no clash.
    result = checklist_import(actor=curator, data=DOC, source_name="api.md", slug="api-v3")
    assert len(result.warnings) == 2


def test_command_prints_the_warning(curator, tmp_path):
    checklist_import(actor=curator, data=DOC, source_name="a.md", slug="api-a")
    path = tmp_path / "api.md"
    path.write_text(DOC, encoding="utf-8")
    out = StringIO()
    call_command(
        "import_checklist", str(path), "--slug", "api-b", "--as", curator.email, stdout=out
    )
    assert "warning:" in out.getvalue() and "api-a" in out.getvalue()


def test_api_import_returns_the_warning(client):
    curator = UserFactory(curator=True)
    client.force_login(curator)
    first = client.post(
        "/api/v1/checklists/import/",
        {"content": DOC, "slug": "api-a"},
        content_type="application/json",
    )
    assert first.status_code == 201 and first.json()["warnings"] == []
    second = client.post(
        "/api/v1/checklists/import/",
        {"content": DOC, "slug": "api-b"},
        content_type="application/json",
    )
    assert second.status_code == 201
    (warning,) = second.json()["warnings"]
    assert "api-a" in warning
