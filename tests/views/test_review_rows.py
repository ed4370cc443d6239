"""The lines of review lists (dashboard, project, spec page), rendered in Python."""

import datetime

import pytest

from reviews.selectors import dashboard, review_progress
from reviews.services import response_save
from reviews.views.fragments import review_rows_html
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


def test_a_line_links_the_review_and_escapes_the_title():
    world = make_world()
    world.spec.title = '<script>alert(1)</script> & "Billing"'
    world.spec.save()
    review = world.review
    review.refresh_from_db()
    html = str(review_rows_html([review]))
    assert f'<a href="/reviews/{review.pk}/">#{review.pk} ' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Billing&quot;" in html
    assert "<script>" not in html
    assert f'<span class="state state-{review.state}">{review.get_state_display()}</span>' in html
    assert "due " not in html  # no due date, no due line
    assert "<progress" not in html  # no progress set by the view, none shown


def test_a_line_shows_the_due_date_and_progress_with_failures():
    world = make_world()
    review = world.review
    items = list(world.version.items.order_by("position")[:2])
    response_save(actor=world.reviewer, review=review, item_id=items[0].pk, verdict="pass")
    response_save(
        actor=world.reviewer, review=review, item_id=items[1].pk, verdict="fail", note="Broken."
    )
    review.refresh_from_db()
    review.due_date = datetime.date(2026, 12, 24)
    review.progress = progress = review_progress(review)
    html = str(review_rows_html([review]))
    assert '<span class="due muted">due 2026-12-24</span>' in html
    total = progress["total"]
    assert f'<progress max="{total}" value="2" aria-label="Progress of review {review.pk}">' in html
    assert f"2/{total} · 1 fail</span>" in html


def test_an_empty_list_shows_its_empty_line_escaped_or_nothing():
    assert str(review_rows_html([], "Nothing <here>.")) == (
        '<li class="muted">Nothing &lt;here&gt;.</li>'
    )
    assert str(review_rows_html([])) == ""


def test_the_dashboard_lists_the_reviewers_review(client):
    world = make_world()
    client.force_login(world.reviewer)
    page = client.get("/").content.decode()
    assert f'<a href="/reviews/{world.review.pk}/">#{world.review.pk} ' in page
    assert "Nothing assigned to you." not in page
    data = dashboard(world.reviewer)
    assert [r.pk for r in data["todo"]] == [world.review.pk]
