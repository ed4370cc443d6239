"""Speed tools on the review page and the dashboard (issue 16, defect 16)."""

import pytest
from django.urls import reverse

from audit.models import Event
from checklists.models import Item, Section
from config.errors import Conflict, NotFound
from reviews.models import Response
from reviews.selectors import dashboard
from reviews.services import response_save, section_mark_na
from reviews.services.workflow import review_submit, signoff_create
from tests.reviews.factories import make_version, make_world

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


# --- search within the review and "mark the rest of this section N/A" ---------------------------


@pytest.fixture
def two_sections(db):
    """A review of a checklist with two sections: "Main" (4 items) and "Operations" (3)."""
    version = make_version(slug="speedy")
    ops = Section.objects.create(version=version, title="Operations", position=1)
    Item.objects.bulk_create(
        Item(
            version=version,
            section=ops,
            key=f"ops-{i}",
            text=text,
            guidance=guide,
            severity="must",
            optional=optional,
            position=10 + i,
        )
        for i, (text, guide, optional) in enumerate(
            [
                ("Retries are bounded", "Say how many times and the backoff.", False),
                ("Alerts page a person", "", False),
                ("Dashboards exist", "", True),
            ]
        )
    )
    world = make_world(version=version)
    world.ops = ops
    return world


def _item(world, key):
    return Item.objects.get(version=world.version, key=key)


def test_search_shows_only_matching_items_without_js(two_sections, as_user):
    world = two_sections
    client = as_user(world.reviewer)
    url = reverse("reviews:review", args=[world.review.pk])
    body = client.get(url, {"q": "BACKOFF"}).content.decode()  # in the guidance, any case
    assert 'name="q" value="BACKOFF"' in body
    assert "1 item match" in body
    assert f'id="item-{_item(world, "ops-0").pk}"' in body
    for key in ("item-0", "item-1", "ops-1", "ops-2"):
        assert f'id="item-{_item(world, key).pk}"' not in body
    # The section without matches stays collapsed (loaded when opened), as without a search.
    main = Item.objects.get(version=world.version, key="item-0").section_id
    assert f'data-section="{main}" data-src=' in body
    # By item text, combined with the filter.
    body = client.get(url, {"q": "alerts", "filter": "open"}).content.decode()
    assert f'id="item-{_item(world, "ops-1").pk}"' in body
    assert f'id="item-{_item(world, "ops-0").pk}"' not in body


def test_search_with_no_match_says_so(two_sections, as_user):
    client = as_user(two_sections.reviewer)
    body = client.get(
        reverse("reviews:review", args=[two_sections.review.pk]), {"q": "kubernetes"}
    ).content.decode()
    assert "0 items match" in body and 'class="item ' not in body


def _mark_na(client, world, section, **data):
    url = reverse("reviews:section_na", args=[world.review.pk, section.pk])
    return client.post(url, {"confirm": "yes", **data}, follow=True)


def test_mark_rest_of_section_na_with_one_note(two_sections, as_user):
    world = two_sections
    client = as_user(world.reviewer)
    first = _item(world, "ops-0")
    response_save(actor=world.reviewer, review=world.review, item_id=first.pk, verdict="pass")
    page = client.get(reverse("reviews:review", args=[world.review.pk]), {"section": world.ops.pk})
    body = page.content.decode()
    assert reverse("reviews:section_na", args=[world.review.pk, world.ops.pk]) in body
    assert "Mark the 2 unanswered items N/A" in body
    # Not on a filtered or searched page, where the section is not shown whole.
    for query in ({"filter": "open"}, {"q": "retries"}):
        filtered = client.get(reverse("reviews:review", args=[world.review.pk]), query)
        assert b"data-section-na" not in filtered.content
    # A collapsed section fetched on opening it brings its form along.
    fragment = client.get(
        reverse("reviews:section_rows", args=[world.review.pk, world.ops.pk]),
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    ).content.decode()
    assert "Mark the 2 unanswered items N/A" in fragment and "csrfmiddlewaretoken" in fragment
    events = Event.objects.filter(verb="response.answered").count()
    resp = _mark_na(client, world, world.ops, note="No operations in a library", expected=2)
    assert "Marked 2 items N/A." in resp.content.decode()
    answers = dict(
        Response.objects.filter(review=world.review, item__section=world.ops).values_list(
            "item__key", "verdict"
        )
    )
    assert answers == {"ops-0": "pass", "ops-1": "na", "ops-2": "na"}
    assert set(
        Response.objects.filter(review=world.review, verdict="na").values_list("note", flat=True)
    ) == {"No operations in a library"}
    # The other section is untouched; one audit event per answer.
    assert (
        not Response.objects.filter(review=world.review, item__section__title="Main")
        .exclude(verdict="unanswered")
        .exists()
    )
    assert Event.objects.filter(verb="response.answered").count() == events + 2


@pytest.mark.parametrize(
    "data,message",
    [
        ({"note": "", "expected": 3}, "give the note that says why they do not apply"),
        ({"note": "n/a", "expected": 2}, "3 items of this section are unanswered now, not 2"),
    ],
)
def test_mark_na_refusals_write_nothing(two_sections, as_user, data, message):
    world = two_sections
    resp = _mark_na(as_user(world.reviewer), world, world.ops, **data)
    assert message in resp.content.decode()
    assert not Response.objects.filter(review=world.review).exclude(verdict="unanswered").exists()


def test_mark_na_needs_the_confirmation_and_the_right(two_sections, as_user):
    world = two_sections
    url = reverse("reviews:section_na", args=[world.review.pk, world.ops.pk])
    resp = as_user(world.reviewer).post(url, {"note": "x", "expected": 3}, follow=True)
    assert "tick the box" in resp.content.decode()
    assert (
        as_user(world.viewer).post(url, {"note": "x", "expected": 3, "confirm": "yes"}).status_code
        == 403
    )
    assert (
        as_user(world.outsider)
        .post(url, {"note": "x", "expected": 3, "confirm": "yes"})
        .status_code
        == 404
    )
    assert not Response.objects.filter(review=world.review).exclude(verdict="unanswered").exists()
    # Viewers are not offered the form.
    body = as_user(world.viewer).get(reverse("reviews:review", args=[world.review.pk])).content
    assert b"data-section-na" not in body


def test_mark_na_service_is_all_or_nothing_on_a_stale_version(two_sections):
    """A section answered N/A goes through the batch service: a refused entry saves none."""
    world = two_sections
    with pytest.raises(Conflict):
        section_mark_na(
            actor=world.reviewer,
            review=world.review,
            section_id=world.ops.pk,
            note="x",
            expected=1,
        )
    with pytest.raises(NotFound):
        section_mark_na(actor=world.reviewer, review=world.review, section_id=999999, note="x")
    saved = section_mark_na(
        actor=world.reviewer, review=world.review, section_id=world.ops.pk, note="x"
    )
    assert [r.verdict for r in saved] == ["na", "na", "na"]
    with pytest.raises(Conflict):  # nothing left to answer
        section_mark_na(
            actor=world.reviewer, review=world.review, section_id=world.ops.pk, note="x"
        )


def test_a_refused_mark_na_lands_where_its_message_is(two_sections, as_user):
    """The message of a refusal is at the top of the page: the redirect does not jump down to
    the section (the new user saw nothing happen), while a success goes back to the section."""
    world = two_sections
    url = reverse("reviews:section_na", args=[world.review.pk, world.ops.pk])
    client = as_user(world.reviewer)
    refused = client.post(url, {"note": "", "expected": 3, "confirm": "yes"})
    assert refused.status_code == 302 and "#section-" not in refused["Location"]
    done = client.post(url, {"note": "no ops", "expected": 3, "confirm": "yes"})
    assert done.status_code == 302 and done["Location"].endswith(f"#section-{world.ops.pk}")
