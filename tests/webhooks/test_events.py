"""A webhook's URL is a credential: its events are for the project's leads, and no event or log
line carries a URL's path or query."""

import logging

import pytest

from reviews.selectors import dashboard
from reviews.services import review_submit
from webhooks.services import webhook_create, webhook_update

pytestmark = pytest.mark.django_db

SECRET_URL = "https://hooks.example.net:8443/services/T0SECRET/B0SECRET?token=s3cr3t"
SECRET_PARTS = ("T0SECRET", "B0SECRET", "s3cr3t", "/services")


def _lifecycle(world):
    hook = webhook_create(actor=world.lead, project=world.project, url=SECRET_URL)
    hook = webhook_update(
        actor=world.lead, webhook=hook, url=SECRET_URL.replace("s3cr3t", "s3cr3t2")
    )
    hook = webhook_update(actor=world.lead, webhook=hook, events=["review.approved"])
    return hook


def _webhook_events(client):
    body = client.get("/api/v1/events/", {"page_size": 200}).json()
    return [e for e in body["results"] if e["verb"].startswith("webhook.")]


@pytest.mark.parametrize("role", ["viewer", "author", "reviewer"])
def test_members_who_are_not_leads_see_no_webhook_events(world, as_user, role):
    _lifecycle(world)
    client = as_user(getattr(world, role))
    assert _webhook_events(client) == []
    body = client.get("/api/v1/events/", {"verb": "webhook.updated"}).json()
    assert body["results"] == []
    # they still see the project's other events
    assert client.get("/api/v1/events/", {"verb": "review.created"}).json()["results"]


def test_leads_see_webhook_events_without_the_urls_path_or_query(world, as_user):
    hook = _lifecycle(world)
    events = _webhook_events(as_user(world.lead))
    assert [e["verb"] for e in events] == ["webhook.updated", "webhook.updated", "webhook.created"]
    text = str(events)
    assert not [part for part in SECRET_PARTS if part in text], text
    assert events[-1]["after"]["url"] == "https://hooks.example.net:8443"
    assert events[1]["after"]["url_changed"] is True  # a change of path is still recorded
    assert events[0]["after"]["url_changed"] is False
    assert "hooks.example.net:8443" in events[0]["object"]["repr"]
    assert str(hook) == f"{world.project} → https://hooks.example.net:8443"


def test_the_dashboard_shows_webhook_activity_to_leads_only(world):
    _lifecycle(world)
    for user, sees in ((world.viewer, False), (world.reviewer, False), (world.lead, True)):
        verbs = [event.verb for event in dashboard(user)["activity"]]
        assert any(v.startswith("webhook.") for v in verbs) is sees, (user, verbs)
        assert any(v.startswith("review.") for v in verbs)


def test_no_log_line_carries_a_webhook_urls_path_or_query(
    world, as_user, caplog, settings, django_capture_on_commit_callbacks
):
    """Through the API, a failed delivery (the host does not resolve here) and the webhook
    disabled after it."""
    settings.WEBHOOK_DISABLE_AFTER = 1
    caplog.set_level(logging.DEBUG)
    lead = as_user(world.lead)
    r = lead.post("/api/v1/webhooks/", {"project": world.project.slug, "url": SECRET_URL})
    assert r.status_code == 201, r.content
    hook_id = r.json()["id"]
    r = lead.patch(f"/api/v1/webhooks/{hook_id}/", {"url": SECRET_URL + "2"})
    assert r.status_code == 200, r.content
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    assert lead.get(f"/api/v1/webhooks/{hook_id}/").json()["active"] is False
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook" in logged  # (the log is not empty)
    assert not [part for part in SECRET_PARTS if part in logged], logged
