"""Dashboard, projects, specs, report, insights and tokens in the browser (no JavaScript)."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from reviews.models import Membership, Review
from reviews.report import render_csv, render_markdown
from reviews.services import finding_raise, response_save, review_submit
from tests.reviews.factories import make_big_version, make_version, make_world

pytestmark = pytest.mark.django_db

ROLES = ["viewer", "author", "reviewer", "lead"]


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_for_each_role(world, as_user, role):
    client = as_user(getattr(world, role))
    review_submit(actor=world.author, review=world.review)
    for url in [
        "/",
        reverse("reviews:projects"),
        reverse("reviews:project", args=[world.project.slug]),
        reverse("reviews:spec", args=[world.spec.pk]),
        reverse("reviews:review", args=[world.review.pk]),
        reverse("reviews:report", args=[world.review.pk]),
        reverse("reviews:insights"),
        reverse("accounts:tokens"),
    ]:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "<script>" not in resp.content.decode()  # CSP: no inline scripts
        assert ' style="' not in resp.content.decode()


@pytest.mark.parametrize(
    "name,args",
    [
        ("reviews:project", "slug"),
        ("reviews:spec", "spec"),
        ("reviews:review", "review"),
        ("reviews:report", "review"),
        ("reviews:report_md", "review"),
        ("reviews:report_csv", "review"),
    ],
)
def test_outsiders_get_404(world, as_user, name, args):
    arg = {"slug": world.project.slug, "spec": world.spec.pk, "review": world.review.pk}[args]
    assert as_user(world.outsider).get(reverse(name, args=[arg])).status_code == 404


def test_dashboard_lists_my_work(world, as_user):
    review_submit(actor=world.author, review=world.review)
    body = as_user(world.reviewer).get("/").content.decode()
    assert "My reviews to do" in body and world.spec.title in body
    assert "<progress" in body
    body = as_user(world.lead).get("/").content.decode()
    assert "To approve" in body
    body = as_user(world.author).get("/").content.decode()
    assert "My specs" in body and world.spec.title in body


def test_lead_manages_members_and_settings(world, as_user):
    client = as_user(world.lead)
    url = reverse("reviews:project_members", args=[world.project.slug])
    resp = client.post(url, {"email": world.outsider.email, "role": "reviewer"})
    assert resp.status_code == 302
    assert Membership.objects.get(project=world.project, user=world.outsider).role == "reviewer"
    client.post(url, {"email": world.outsider.email, "role": "lead", "can_override": "on"})
    member = Membership.objects.get(project=world.project, user=world.outsider)
    assert (member.role, member.can_override) == ("lead", True)
    client.post(url, {"email": world.outsider.email, "remove": "1"})
    assert not Membership.objects.filter(project=world.project, user=world.outsider).exists()
    resp = client.post(url, {"email": "nobody@example.com", "role": "viewer"}, follow=True)
    assert resp.status_code == 200
    settings_url = reverse("reviews:project_settings", args=[world.project.slug])
    client.post(settings_url, {"required_signoffs": 2, "important_findings_block": "on"})
    world.project.refresh_from_db()
    assert world.project.required_signoffs == 2 and world.project.important_findings_block


def test_members_without_the_right_get_403(world, as_user):
    client = as_user(world.reviewer)
    url = reverse("reviews:project_members", args=[world.project.slug])
    assert client.post(url, {"email": world.outsider.email, "role": "lead"}).status_code == 403
    settings_url = reverse("reviews:project_settings", args=[world.project.slug])
    assert client.post(settings_url, {"required_signoffs": 3}).status_code == 403
    spec_url = reverse("reviews:spec_create", args=[world.project.slug])
    assert client.post(spec_url, {"title": "X", "revision_label": "r1"}).status_code == 403
    review_url = reverse("reviews:review_create", args=[world.spec.pk])
    assert client.post(review_url, {"template_versions": [world.version.pk]}).status_code == 403
    body = client.get(reverse("reviews:project", args=[world.project.slug])).content.decode()
    assert "Add member" not in body


def test_author_creates_spec_revision_and_review(world, as_user):
    client = as_user(world.author)
    resp = client.post(
        reverse("reviews:spec_create", args=[world.project.slug]),
        {"title": "Search API", "link": "https://docs.example.com/s", "revision_label": "r1"},
    )
    assert resp.status_code == 302
    spec = world.project.specs.get(title="Search API")
    resp = client.post(reverse("reviews:spec_revision", args=[spec.pk]), {"label": "r2"})
    assert resp.status_code == 302
    spec.refresh_from_db()
    assert spec.revision_label == "r2"
    other = make_version(slug="security")
    resp = client.post(
        reverse("reviews:review_create", args=[spec.pk]),
        {"template_versions": [world.version.pk, other.pk], "reviewers": [world.reviewer.email]},
    )
    assert resp.status_code == 302
    review = Review.objects.get(spec=spec)
    assert review.responses.count() == 8
    assert resp["Location"] == reverse("reviews:review", args=[review.pk])


def test_invalid_forms_are_shown_not_500(world, as_user):
    client = as_user(world.author)
    resp = client.post(reverse("reviews:spec_create", args=[world.project.slug]), {"title": ""})
    assert resp.status_code == 400
    assert "This field is required" in resp.content.decode()
    resp = client.post(reverse("reviews:review_create", args=[world.spec.pk]), {})
    assert resp.status_code == 400
    draft = make_version(slug="drafty", status="draft")
    resp = client.post(
        reverse("reviews:review_create", args=[world.spec.pk]), {"template_versions": [draft.pk]}
    )
    assert resp.status_code == 400


def _populated(world):
    items = world.items()
    response_save(
        actor=world.reviewer, review=world.review, item_id=items["item-0"].pk, verdict="pass"
    )
    response_save(
        actor=world.reviewer,
        review=world.review,
        item_id=items["item-1"].pk,
        verdict="fail",
        note="=SUM(A1) no errors listed",
    )
    finding_raise(
        actor=world.reviewer,
        review=world.review,
        severity="critical",
        title="No idempotency",
        location="§3",
        impact="Double charges",
        recommendation="Add keys",
        verification="Replay test",
    )
    finding_raise(
        actor=world.reviewer, review=world.review, severity="strength", title="Clear diagrams"
    )


def test_report_markdown(world, as_user):
    _populated(world)
    text = render_markdown(world.review)
    for heading in [
        "Critical issues (1)",
        "Important issues (0)",
        "Suggestions (0)",
        "Strengths (1)",
    ]:
        assert f"### {heading}" in text
    assert "- Location: §3" in text and "- Impact: Double charges" in text
    assert "- Recommendation: Add keys" in text and "- Verification: Replay test" in text
    assert "- Status: Open" in text
    assert "## Gate" in text and "blocking finding" in text
    assert "[x] pass `item-0`" in text and "[!] fail `item-1`" in text
    assert "2 of 4 answered" in text
    resp = as_user(world.viewer).get(reverse("reviews:report_md", args=[world.review.pk]))
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/markdown")
    assert "attachment" in resp["Content-Disposition"]


def test_report_csv(world, as_user):
    _populated(world)
    resp = as_user(world.viewer).get(reverse("reviews:report_csv", args=[world.review.pk]))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert {row["record"] for row in rows} >= {"approval", "gate", "gate_rule", "item"}
    rows = [row for row in rows if row["record"] == "item"]
    assert len(rows) == 4
    assert list(rows[0])[:12] == [
        "record",
        "template",
        "section",
        "group",
        "key",
        "text",
        "severity",
        "gate",
        "verdict",
        "note",
        "answered_by",
        "answered_at",
    ]
    fail = next(r for r in rows if r["key"] == "item-1")
    assert fail["verdict"] == "fail" and fail["note"].startswith("'=SUM")  # no formula
    assert fail["answered_by"] == world.reviewer.email


def test_report_queries_are_constant(django_assert_max_num_queries):
    big = make_world(version=make_big_version("big-report", 1000))
    with django_assert_max_num_queries(20):
        assert render_markdown(big.review).count("`item-") >= 1000
    with django_assert_max_num_queries(12):
        assert render_csv(big.review).count("\nitem,") == 1000


def test_report_page_is_printable(world, as_user):
    _populated(world)
    body = as_user(world.lead).get(reverse("reviews:report", args=[world.review.pk])).content
    body = body.decode()
    assert "Critical issues (1)" in body and "Download Markdown" in body
    assert "no-print" in body


def test_insights_chart(world, as_user):
    _populated(world)
    body = as_user(world.viewer).get(reverse("reviews:insights")).content.decode()
    assert "item-1" in body and 'class="bar w100"' in body
    other = make_world()
    response_save(
        actor=other.reviewer,
        review=other.review,
        item_id=other.items()["item-3"].pk,
        verdict="fail",
        note="x",
    )
    body = as_user(world.viewer).get(reverse("reviews:insights")).content.decode()
    assert other.version.template.slug not in body  # not my project


def test_tokens_page(world, as_user):
    client = as_user(world.reviewer)
    resp = client.post(
        reverse("accounts:tokens"), {"name": "CI", "expires_in_days": 30}, follow=True
    )
    assert resp.redirect_chain == [(reverse("accounts:tokens"), 302)]
    token = ApiToken.objects.get(user=world.reviewer)
    body = resp.content.decode()
    assert "will not be shown again" in body and token.prefix in body
    assert "will not be shown again" not in client.get(reverse("accounts:tokens")).content.decode()
    assert client.post(reverse("accounts:tokens"), {"name": ""}).status_code == 400
    other = as_user(world.lead)
    assert other.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    client = as_user(world.reviewer)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_allauth_pages_use_the_layout(client, url):
    resp = client.get(url)
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'class="auth-card"' in body and "css/specgate.css" in body


def test_bad_input_never_500(world, as_user):
    client = as_user(world.reviewer)
    item = world.items()["item-0"]
    url = reverse("reviews:answer", args=[world.review.pk, item.pk])
    assert client.post(url, {"verdict": "maybe", "version": 1}).status_code == 400
    assert client.post(url, {"verdict": "pass", "version": "x"}).status_code == 400
    assert client.post(url, {"verdict": "pass", "note": "n" * 10_001}).status_code == 400
    other = make_version(slug="elsewhere").items.first()
    missing = reverse("reviews:answer", args=[world.review.pk, other.pk])
    assert client.post(missing, {"verdict": "pass"}).status_code == 404
    assert client.get(url).status_code == 405
    assert (
        client.post(reverse("reviews:action", args=[world.review.pk, "bogus"])).status_code == 404
    )
    resolve = reverse("reviews:finding_resolve", args=[world.review.pk, 999999])
    assert client.post(resolve, {"status": "resolved", "note": "x"}).status_code == 404
    resp = client.post(reverse("reviews:finding_raise", args=[world.review.pk]), {"title": ""})
    assert resp.status_code == 400  # the form again, with the errors at their fields


def test_read_only_review_refuses_answers(world, as_user):
    from reviews.services import review_withdraw

    review_withdraw(actor=world.author, review=world.review)
    client = as_user(world.reviewer)
    item = world.items()["item-0"]
    url = reverse("reviews:answer", args=[world.review.pk, item.pk])
    resp = client.post(url, {"verdict": "pass", "version": 1})
    assert resp.status_code == 409
    assert "read-only" in resp.content.decode()
    resp = client.post(
        url, {"verdict": "pass", "version": 1}, headers={"Accept": "application/json"}
    )
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "read_only"


def test_insights_median_time_to_approval(world, as_user):
    from datetime import timedelta

    from reviews.models import Review

    Review.objects.filter(pk=world.review.pk).update(
        state="approved",
        submitted_at=world.review.created_at,
        approved_at=world.review.created_at + timedelta(hours=6),
    )
    body = as_user(world.viewer).get(reverse("reviews:insights")).content.decode()
    assert "6.0 hours" in body and "Median over 1 approved review" in body
