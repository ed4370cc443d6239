"""Speed tools on the review page and the dashboard (issue 16, defect 16)."""

import pytest

from reviews.selectors import dashboard
from reviews.services.workflow import review_submit, signoff_create
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


def _ids(rows):
    return [r.pk for r in rows]


def test_dashboard_lists_never_repeat_a_review(client):
    world = make_world()
    # A draft assigned to me: to do, nothing to sign off yet.
    data = dashboard(world.reviewer)
    assert (_ids(data["todo"]), _ids(data["waiting"])) == ([world.review.pk], [])
    # In review and not signed by me: waiting for my sign-off, and only there.
    review_submit(actor=world.author, review=world.review)
    data = dashboard(world.reviewer)
    assert (_ids(data["todo"]), _ids(data["waiting"])) == ([], [world.review.pk])
    client.force_login(world.reviewer)
    page = client.get("/").content.decode()
    lists = page[page.index('id="todo-title"') : page.index('id="specs-title"')]
    assert lists.count(f'href="/reviews/{world.review.pk}/"') == 1
    assert "Nothing assigned to you." in page
    # Signed: back among my reviews, no longer waiting.
    signoff_create(actor=world.reviewer, review=world.review, comment="ok")
    data = dashboard(world.reviewer)
    assert (_ids(data["todo"]), _ids(data["waiting"])) == ([world.review.pk], [])
