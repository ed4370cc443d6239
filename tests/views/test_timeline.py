"""The timeline and the dashboard's activity read as sentences, a page at a time, with a
fixed number of queries whatever the number of events."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.services import record_event
from checklists.models import Item
from reviews import services
from reviews.models import GateRule

pytestmark = pytest.mark.django_db

PAGE_SIZE = 50  # the lines a timeline page shows

ITEM_TEXT = "Every endpoint is listed with its method, path and purpose"


def _timeline(html: str) -> str:
    """The text of the review page's (or timeline page's) timeline list."""
    match = re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S)
    assert match, "no timeline on the page"
    return match.group(1)


def _name(world, who, name):
    user = getattr(world, who)
    user.display_name = name
    user.save(update_fields=["display_name"])
    return user


@pytest.fixture
def story(world):
    """A reviewer answers an item whose key differs from its text, a lead assigns another
    reviewer, the reviewer signs off, a changed answer makes that sign-off stale, the lead
    overrides a gate rule."""
    rita = _name(world, "reviewer", "Rita Reviewer")
    rob = _name(world, "reviewer2", "Rob Reviewer")
    lee = _name(world, "lead", "Lead Lee")
    item = Item.objects.filter(version=world.version).order_by("position").first()
    item.key = "every-endpoint-is-listed-with-its-method-path-and-157df4"
    item.text = ITEM_TEXT
    item.save(update_fields=["key", "text"])
    review = world.review
    services.review_submit(actor=world.author, review=review)
    services.response_save(actor=rita, review=review, item_id=item.pk, verdict="pass")
    services.review_assign(actor=lee, review=review, email=rob.email)
    services.signoff_create(actor=rita, review=review)
    services.response_save(actor=rita, review=review, item_id=item.pk, verdict="fail", note="x")
    services.override_grant(
        actor=lee, review=review, rule=GateRule.GATE_ITEMS, justification="Shipped behind a flag"
    )
    return world, item


def test_review_timeline_reads_as_sentences(story, as_user):
    world, item = story
    html = as_user(world.reviewer).get(reverse("reviews:review", args=[world.review.pk]))
    timeline = _timeline(html.content.decode())
    assert "Rita Reviewer answered “Every endpoint is listed" in timeline
    assert ": Pass" in timeline and ": Fail" in timeline
    assert "Lead Lee assigned Rob Reviewer" in timeline
    assert "Rita Reviewer signed off (approve)" in timeline
    assert "Rita Reviewer&#x27;s sign-off went stale: answer to" in timeline
    assert "Lead Lee overrode the gate rule “Every gate item passes" in timeline
    assert "Shipped behind a flag" in timeline
    # No audit verbs, ids, machine keys or a stale sign-off called "(current)".
    for raw in ("response.answered", "review.reviewer_assigned", "override.granted", "(current)"):
        assert raw not in timeline
    assert item.key not in timeline
    assert f"{item.pk}: pass" not in timeline


def test_dashboard_activity_uses_the_same_sentences(story, as_user):
    world, _ = story
    html = as_user(world.lead).get(reverse("reviews:dashboard")).content.decode()
    activity = html[html.index('id="activity-title"') :]
    assert "Lead Lee overrode the gate rule" in activity
    assert "Rita Reviewer answered “Every endpoint is listed" in activity
    assert "override.granted" not in activity and "response.answered" not in activity


def test_unknown_verbs_read_as_words(world, as_user):
    record_event(
        actor=world.lead,
        verb="review.label_added",
        object_type="review",
        object_id=world.review.pk,
        object_repr="needs-security",
        project_id=world.project.pk,
        review_id=world.review.pk,
    )
    html = as_user(world.lead).get(reverse("reviews:review", args=[world.review.pk]))
    timeline = _timeline(html.content.decode())
    assert "review label added: needs-security" in timeline
    assert "review.label_added" not in timeline


def _answer_many(world, count: int) -> None:
    items = list(Item.objects.filter(version=world.version).order_by("position"))
    for n in range(count):
        verdict = "pass" if (n // len(items)) % 2 == 0 else "fail"  # each save a change
        services.response_save(
            actor=world.reviewer,
            review=world.review,
            item_id=items[n % len(items)].pk,
            verdict=verdict,
            note="why",
        )


def test_more_than_a_page_shows_older_events_on_demand(world, as_user):
    _answer_many(world, PAGE_SIZE + 15)
    client = as_user(world.reviewer)
    html = client.get(reverse("reviews:review", args=[world.review.pk])).content.decode()
    timeline = _timeline(html)
    assert timeline.count("<li") == PAGE_SIZE + 1  # the page, and the link to older events
    link = re.search(r'<a href="([^"]+)" rel="next">Show older events</a>', timeline)
    assert link, "no link to the older events"
    older = client.get(link.group(1).replace("&amp;", "&").split("#")[0])
    assert older.status_code == 200
    older_lines = _timeline(older.content.decode())
    # Everything the first page did not show: the remaining answers and the review's creation.
    assert "created the review" in older_lines
    assert "Show older events" not in older_lines
    assert older_lines.count("<li") >= 15


def test_a_bad_cursor_is_a_clear_error(world, as_user):
    url = reverse("reviews:timeline", args=[world.review.pk])
    response = as_user(world.reviewer).get(url, {"before": "abc"})
    assert response.status_code == 400
    assert "before" in response.content.decode()


def test_the_timeline_of_an_invisible_review_is_not_found(world, as_user):
    url = reverse("reviews:timeline", args=[world.review.pk])
    assert as_user(world.outsider).get(url).status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["review", "timeline", "dashboard"])
def test_query_count_does_not_grow_with_the_events(world, as_user, page):
    """10 events and 100: the same number of queries (no query per line)."""
    client = as_user(world.lead)
    url = (
        reverse("reviews:dashboard")
        if page == "dashboard"
        else reverse(f"reviews:{page}", args=[world.review.pk])
    )
    _answer_many(world, 10)
    few = _queries(client, url)
    _answer_many(world, 90)
    many = _queries(client, url)
    assert many == few


def test_every_verb_the_services_record_has_a_sentence():
    """A new verb gets its sentence: every audit verb written in the code is known (the
    default "<who> — <verb in words>" is for events from elsewhere)."""
    from pathlib import Path

    from django.conf import settings

    from reviews.services import ACTIONS
    from reviews.timeline import SENTENCES

    verb = re.compile(
        r'"((?:checklist|finding|membership|override|project|response|responses|review|'
        r'signoff|spec|token|user|webhook)\.[a-z_]+)"'
    )
    recorded = {f"review.{name}" for name, action in ACTIONS.items() if action.target}
    for app in ("accounts", "audit", "checklists", "reviews", "webhooks"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "timeline.py":
                continue
            text = path.read_text()
            for name in verb.findall(text):
                # ``verb=...`` or a verb passed to an event helper, not a webhook event type
                if re.search(rf'(verb=|_event\(|\n\s+)"{re.escape(name)}"', text):
                    recorded.add(name)
    missing = sorted(recorded - SENTENCES.keys())
    assert not missing, missing
