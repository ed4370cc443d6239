"""The report is the approval record: who approved and when, the gate as it stood (with its
overrides: justification, who granted, expiry), every sign-off with its decision, comment and
staleness — and it reads the same for every reader (page, Markdown, CSV)."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reviews import services
from reviews.models import Review
from tests.accounts.factories import record_reauthentication
from tests.reviews.factories import make_world

pytestmark = pytest.mark.django_db


def reader(client_class, user):
    client = client_class()
    client.force_login(user)
    record_reauthentication(client, user)
    return client


@pytest.fixture
def approved():
    world = make_world(required_signoffs=1)
    review = world.review
    services.review_submit(actor=world.author, review=review)
    items = list(world.version.items.order_by("position"))
    for item in items:
        services.response_save(actor=world.reviewer, review=review, item_id=item.pk, verdict="pass")
    services.signoff_create(
        actor=world.reviewer2,
        review=review,
        decision="request_changes",
        comment="Retries are unbounded.",
    )
    services.response_save(
        actor=world.reviewer,
        review=review,
        item_id=items[0].pk,
        verdict="pass",
        note="Retries now bounded.",
    )
    services.finding_raise(
        actor=world.reviewer, review=review, severity="critical", title="Replay attack"
    )
    services.signoff_create(actor=world.reviewer, review=review, comment="Looks solid.")
    services.override_grant(
        actor=world.lead,
        review=review,
        rule="blocking_findings",
        justification="Tracked as SEC-12, fixed before launch.",
        expires_at=timezone.now() + timedelta(days=7),
    )
    services.review_approve(actor=world.lead, review=review, comment="Ship it.")
    world.review = Review.objects.get(pk=review.pk)
    return world


def downloads(client, review, name):
    return client.get(reverse(name, args=[review.pk])).content


def article(client, review) -> str:
    body = client.get(reverse("reviews:report", args=[review.pk])).content.decode()
    return re.search(r'<article class="report">.*</article>', body, re.S).group(0)


def test_every_reader_gets_the_same_report(approved):
    review = approved.review
    readers = [reader(Client, user) for user in (approved.lead, approved.viewer)]
    for name in ("reviews:report_md", "reviews:report_csv"):
        first, second = (downloads(c, review, name) for c in readers)
        assert first == second, name
    assert article(readers[0], review) == article(readers[1], review)


def test_the_same_for_every_reader_before_approval():
    world = make_world()
    services.review_submit(actor=world.author, review=world.review)
    readers = [reader(Client, u) for u in (world.lead, world.author, world.reviewer)]
    markdown = {downloads(c, world.review, "reviews:report_md") for c in readers}
    assert len(markdown) == 1
    pages = {article(c, world.review) for c in readers}
    assert len(pages) == 1
    text = markdown.pop().decode()
    assert "Not approved" in text
    assert "You " not in text


def test_the_markdown_is_an_approval_record(approved):
    review = approved.review
    text = downloads(reader(Client, approved.viewer), review, "reviews:report_md").decode()
    when = timezone.localtime(review.approved_at).strftime("%Y-%m-%d %H:%M")
    assert f"Approved by {approved.lead.label} ({approved.lead.email}) at {when}" in text
    assert "Ship it." in text
    assert "You " not in text  # nothing relative to the reader
    # The gate as it stood at the approval, with the override.
    assert "Ready for development: yes" in text
    assert "Tracked as SEC-12, fixed before launch." in text
    override = next(line for line in text.splitlines() if "SEC-12" in line)
    assert approved.lead.email in override and "expires" in override
    # Every sign-off, with its decision, comment and staleness.
    signoffs = text[text.index("## Sign-offs") :]
    assert "Looks solid." in signoffs and "Retries are unbounded." in signoffs
    stale = next(line for line in signoffs.splitlines() if approved.reviewer2.email in line)
    assert "requested changes" in stale and "stale" in stale
    current = next(line for line in signoffs.splitlines() if approved.reviewer.email in line)
    assert "approved" in current and "current" in current


def test_the_csv_carries_the_record(approved):
    review = approved.review
    body = downloads(reader(Client, approved.reviewer), review, "reviews:report_csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    by_record = {}
    for row in rows:
        by_record.setdefault(row["record"], []).append(row)
    (approval,) = by_record["approval"]
    assert approval["status"] == "approved" and approval["by"] == approved.lead.email
    assert approval["at"] and approval["detail"] == "Ship it."
    (override,) = by_record["override"]
    assert override["rule"] == "blocking_findings" and override["by"] == approved.lead.email
    assert override["expires_at"] and "SEC-12" in override["detail"]
    decisions = {(r["by"], r["decision"], r["status"]) for r in by_record["signoff"]}
    assert (approved.reviewer.email, "approve", "current") in decisions
    assert (approved.reviewer2.email, "request_changes", "stale") in decisions
    assert {r["rule"] for r in by_record["gate_rule"]} >= {"blocking_findings", "signoffs"}
    assert len(by_record["item"]) == 4


def test_the_page_is_an_approval_record(approved):
    html = article(reader(Client, approved.viewer), approved.review)
    assert approved.lead.label in html and "Ship it." in html
    assert "Tracked as SEC-12, fixed before launch." in html
    assert "Looks solid." in html and "Retries are unbounded." in html
    assert "stale" in html
    assert "You " not in html
