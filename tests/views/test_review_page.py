"""The review page without JavaScript: answers, errors, conflicts, actions, findings."""

import re

import pytest
from django.urls import reverse

from reviews.models import Response
from reviews.services import finding_raise, response_save, review_submit, signoff_create
from tests.reviews.factories import make_big_version, make_world

pytestmark = pytest.mark.django_db


def _url(world):
    return reverse("reviews:review", args=[world.review.pk])


def _answer_url(world, item):
    return reverse("reviews:answer", args=[world.review.pk, item.pk])


@pytest.mark.parametrize("role", ["viewer", "author", "reviewer", "lead", "lead2"])
def test_review_page_renders_for_every_role(world, as_user, role):
    client = as_user(getattr(world, role))
    page = client.get(_url(world))
    assert page.status_code == 200
    body = page.content.decode()
    assert world.spec.title in body
    assert 'id="gate"' in body
    for item in world.items().values():
        assert f'id="item-{item.pk}"' in body


def test_outsider_gets_404(world, as_user):
    client = as_user(world.outsider)
    assert client.get(_url(world)).status_code == 404
    item = next(iter(world.items().values()))
    resp = client.post(_answer_url(world, item), {"verdict": "pass", "version": 1})
    assert resp.status_code == 404
    assert Response.objects.get(review=world.review, item=item).verdict == "unanswered"


def test_anonymous_is_sent_to_sign_in(world, client):
    resp = client.get(_url(world))
    assert resp.status_code == 302
    assert "/accounts/login/" in resp["Location"]


def test_viewer_cannot_answer_403(world, as_user):
    client = as_user(world.viewer)
    item = next(iter(world.items().values()))
    resp = client.post(_answer_url(world, item), {"verdict": "pass", "version": 1})
    assert resp.status_code == 403
    assert Response.objects.get(review=world.review, item=item).verdict == "unanswered"


def test_viewer_sees_disabled_radios(world, as_user):
    body = as_user(world.viewer).get(_url(world)).content.decode()
    assert 'value="pass" disabled' in body


def test_no_js_answer_round_trip(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-0"]
    resp = client.post(_answer_url(world, item), {"verdict": "pass", "note": "ok", "version": 1})
    assert resp.status_code == 302
    assert resp["Location"].endswith(f"#item-{item.pk}")
    saved = Response.objects.get(review=world.review, item=item)
    assert (saved.verdict, saved.note, saved.version) == ("pass", "ok", 2)
    page = client.get(resp["Location"].split("#")[0])
    assert "1 pass" in page.content.decode()


def test_fail_without_note_shows_error_next_to_item(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-1"]
    resp = client.post(_answer_url(world, item), {"verdict": "fail", "note": "", "version": 1})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "A fail needs a note" in body
    assert f'id="err-{item.pk}">A fail needs a note' in body
    assert Response.objects.get(review=world.review, item=item).verdict == "unanswered"


def test_na_on_required_item_needs_note(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-1"]
    resp = client.post(_answer_url(world, item), {"verdict": "na", "version": 1})
    assert resp.status_code == 400
    assert "needs a note" in resp.content.decode()
    optional = world.items()["item-2"]
    resp = client.post(_answer_url(world, optional), {"verdict": "na", "version": 1})
    assert resp.status_code == 302


def test_conflict_keeps_my_input_and_shows_theirs(world, as_user):
    item = world.items()["item-1"]
    response_save(
        actor=world.lead, review=world.review, item_id=item.pk, verdict="pass", note="theirs"
    )
    client = as_user(world.reviewer)
    resp = client.post(_answer_url(world, item), {"verdict": "fail", "note": "mine", "version": 1})
    assert resp.status_code == 409
    body = resp.content.decode()
    assert "changed this meanwhile" in body
    assert "theirs" in body and ">mine</textarea>" in body
    # The form keeps the version the reader had: its plain Save meets the conflict again.
    assert 'name="version" value="1"' in body
    assert 'name="version" value="2"' not in body
    resp = client.post(_answer_url(world, item), {"verdict": "fail", "note": "mine", "version": 1})
    assert resp.status_code == 409
    assert Response.objects.get(review=world.review, item=item).note == "theirs"
    # Overwrite with mine is its own button, carrying their version: that one wins.
    assert 'name="overwrite" value="2"' in resp.content.decode()
    resp = client.post(
        _answer_url(world, item), {"verdict": "fail", "note": "mine", "version": 1, "overwrite": 2}
    )
    assert resp.status_code == 302
    assert Response.objects.get(review=world.review, item=item).note == "mine"


def test_conflict_box_quotes_their_note_without_doubled_punctuation(world, as_user):
    item = world.items()["item-1"]
    response_save(
        actor=world.lead, review=world.review, item_id=item.pk, verdict="fail",
        note="Retries are unbounded for 502.",
    )  # fmt: skip
    client = as_user(world.reviewer)
    resp = client.post(_answer_url(world, item), {"verdict": "pass", "version": 1})
    body = resp.content.decode()
    assert "for 502.”" in body and "for 502.”." not in body


def test_json_answer_returns_row_progress_and_gate(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-0"]
    resp = client.post(
        _answer_url(world, item),
        {"verdict": "pass", "version": 1},
        headers={"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"},
    )
    assert resp.status_code == 200
    data = resp.json()
    assert data["ok"] and data["response"]["version"] == 2
    assert data["progress"]["overall"]["pass"] == 1
    assert data["progress"]["section"]["answered"] == 1
    assert f'id="item-{item.pk}"' in data["row_html"]
    assert "Gate" in data["gate_html"]


def test_json_answer_errors(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-1"]
    headers = {"Accept": "application/json"}
    resp = client.post(_answer_url(world, item), {"verdict": "fail", "version": 1}, headers=headers)
    assert resp.status_code == 400
    assert resp.json()["error"]["details"]["note"]
    response_save(actor=world.lead, review=world.review, item_id=item.pk, verdict="pass")
    resp = client.post(
        _answer_url(world, item), {"verdict": "na", "note": "x", "version": 1}, headers=headers
    )
    assert resp.status_code == 409
    assert resp.json()["current"]["verdict"] == "pass"
    assert resp.json()["current"]["version"] == 2


def test_user_text_is_escaped(world, as_user):
    item = world.items()["item-1"]
    response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=item.pk,
        verdict="fail",
        note="<script>alert(1)</script>",
    )
    body = as_user(world.lead).get(_url(world)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_actions_are_disabled_with_reasons(world, as_user):
    review_submit(actor=world.author, review=world.review)
    body = as_user(world.lead).get(_url(world)).content.decode()
    assert 'data-action="approve" disabled' in body
    assert "must item(s) unanswered" in body


def test_full_flow_without_js(world, as_user):
    review = world.review
    review_submit(actor=world.author, review=review)
    reviewer = as_user(world.reviewer)
    for key, verdict, note in [
        ("item-0", "pass", ""),
        ("item-1", "pass", ""),
        ("item-2", "na", ""),
        ("item-3", "fail", "no diagram"),
    ]:
        item = world.items()[key]
        resp = reviewer.post(
            _answer_url(world, item), {"verdict": verdict, "note": note, "version": 1}
        )
        assert resp.status_code == 302, resp.content
    resp = reviewer.post(
        reverse("reviews:finding_raise", args=[review.pk]),
        {"severity": "critical", "title": "No rollback plan", "item": world.items()["item-3"].pk},
    )
    assert resp.status_code == 302
    finding = review.findings.get()
    assert finding.item.key == "item-3"
    lead = as_user(world.lead)
    body = lead.get(_url(world)).content.decode()
    assert f'href="#finding-{finding.pk}"' in body
    resp = lead.post(
        reverse("reviews:finding_resolve", args=[review.pk, finding.pk]),
        {"status": "resolved", "note": "Added in r2"},
    )
    assert resp.status_code == 302
    reviewer = as_user(world.reviewer)
    resp = reviewer.post(reverse("reviews:action", args=[review.pk, "signoff"]), {"comment": "ok"})
    assert resp.status_code == 302
    lead = as_user(world.lead)
    # A failed (non-gate) item is a warning: the approve form asks to confirm it.
    body = lead.get(_url(world)).content.decode()
    assert "I have seen 1 warning" in body
    seen = re.search(r'name="warnings_seen" value="(\w+)"', body).group(1)
    resp = lead.post(
        reverse("reviews:action", args=[review.pk, "approve"]),
        {"comment": "go", "warnings_seen": seen},
    )
    assert resp.status_code == 302
    review.refresh_from_db()
    assert review.state == "approved"
    body = lead.get(_url(world)).content.decode()
    assert "read-only" in body
    assert 'value="pass" checked disabled' in body


def test_refused_action_is_a_message_not_500(world, as_user):
    client = as_user(world.lead)
    resp = client.post(reverse("reviews:action", args=[world.review.pk, "approve"]), follow=True)
    assert resp.status_code == 200
    assert "Cannot approve" in resp.content.decode()


def test_reviewer_cannot_approve_403(world, as_user):
    review_submit(actor=world.author, review=world.review)
    resp = as_user(world.reviewer).post(
        reverse("reviews:action", args=[world.review.pk, "approve"])
    )
    assert resp.status_code == 403


def test_reopen_needs_reason(world, as_user):
    client = as_user(world.lead)
    resp = client.post(reverse("reviews:action", args=[world.review.pk, "reopen"]), follow=True)
    assert "needs a reason" in resp.content.decode()


def test_override_form(world, as_user):
    review_submit(actor=world.author, review=world.review)
    client = as_user(world.lead)
    resp = client.post(
        reverse("reviews:action", args=[world.review.pk, "override"]),
        {"rule": "signoffs", "justification": "Only one reviewer this week"},
        follow=True,
    )
    assert "Override granted" in resp.content.decode()
    assert world.review.overrides.count() == 1
    assert "Overridden by" in resp.content.decode()


def test_finding_blocks_gate_with_anchor(world, as_user):
    finding = finding_raise(
        actor=world.reviewer, review=world.review, severity="critical", title="Breaks <b>auth</b>"
    )
    body = as_user(world.lead).get(_url(world)).content.decode()
    assert f'id="finding-{finding.pk}"' in body
    assert "Breaks &lt;b&gt;auth&lt;/b&gt;" in body


def test_filter_modes(world, as_user):
    item = world.items()["item-1"]
    response_save(
        actor=world.reviewer, review=world.review, item_id=item.pk, verdict="fail", note="bad"
    )
    client = as_user(world.reviewer)
    failed = client.get(_url(world) + "?filter=failed").content.decode()
    assert f'id="item-{item.pk}"' in failed
    assert f'id="item-{world.items()["item-0"].pk}"' not in failed
    opened = client.get(_url(world) + "?filter=open").content.decode()
    assert f'id="item-{item.pk}"' not in opened
    mine = client.get(_url(world) + "?filter=mine").content.decode()
    assert f'id="item-{item.pk}"' in mine
    assert client.get(_url(world) + "?filter=bogus").status_code == 200


def test_signoff_listed(world, as_user):
    review_submit(actor=world.author, review=world.review)
    signoff_create(actor=world.reviewer, review=world.review, comment="looks good")
    body = as_user(world.viewer).get(_url(world)).content.decode()
    assert "looks good" in body


def test_query_count_is_constant(django_assert_max_num_queries, client):
    small = make_world()
    client.force_login(small.reviewer)
    url = reverse("reviews:review", args=[small.review.pk])
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    big = make_world(version=make_big_version("big-checklist", 1000))
    client.force_login(big.reviewer)
    url = reverse("reviews:review", args=[big.review.pk])
    with django_assert_max_num_queries(12):
        resp = client.get(url + "?all=1")
    assert resp.status_code == 200
    assert resp.content.decode().count('class="item ') == 1000


def test_lead_assigns_and_unassigns_reviewers(world, as_user):
    url = reverse("reviews:assign", args=[world.review.pk])
    client = as_user(world.lead)
    body = client.get(_url(world)).content.decode()
    assert "Assign reviewer" in body
    resp = client.post(url, {"email": world.reviewer2.email})
    assert resp.status_code == 302
    assert world.review.assignments.filter(user=world.reviewer2).exists()
    resp = client.post(url, {"email": world.reviewer2.email}, follow=True)
    assert "already assigned" in resp.content.decode()
    resp = client.post(url, {"email": world.viewer.email}, follow=True)
    assert "Not a reviewer or lead" in resp.content.decode()
    client.post(url, {"email": world.reviewer2.email, "remove": "1"})
    assert not world.review.assignments.filter(user=world.reviewer2).exists()
    reviewer = as_user(world.reviewer)
    assert "Assign reviewer" not in reviewer.get(_url(world)).content.decode()
    assert reviewer.post(url, {"email": world.reviewer2.email}).status_code == 403


def test_json_answer_query_count_is_constant(django_assert_max_num_queries, client):
    big = make_world(version=make_big_version("big-json", 1000))
    client.force_login(big.reviewer)
    item = big.version.items.order_by("position").first()
    url = reverse("reviews:answer", args=[big.review.pk, item.pk])
    with django_assert_max_num_queries(17):
        resp = client.post(
            url, {"verdict": "pass", "version": 1}, headers={"Accept": "application/json"}
        )
    assert resp.status_code == 200
    assert resp.json()["progress"]["overall"]["total"] == 1000
