"""List endpoints read a constant number of queries whatever the page size."""

import pytest

from checklists.models import Section
from reviews.models import Finding, Membership, Role
from reviews.services import review_create, spec_create
from tests.accounts.factories import UserFactory
from tests.reviews.factories import make_big_version, make_world

pytestmark = pytest.mark.django_db


def _grow(world, rows: int):
    """``rows`` specs, reviews, members and findings in the world's project."""
    for i in range(rows):
        spec = spec_create(actor=world.author, project=world.project, title=f"Spec {i}")
        review_create(
            actor=world.author,
            spec=spec,
            template_version_ids=[world.version.pk],
            reviewers=[world.reviewer.email],
        )
        Membership.objects.create(project=world.project, user=UserFactory(), role=Role.VIEWER)
        Finding.objects.create(
            review=world.review, severity="suggestion", title=f"F{i}", raised_by=world.reviewer
        )


def _count(django_assert_max_num_queries, client, path, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/",
        "/api/v1/specs/",
        "/api/v1/reviews/",
        "/api/v1/reviews/?project={slug}&state=draft&ordering=-due_date",
        "/api/v1/reviews/{rid}/findings/",
        "/api/v1/reviews/{rid}/signoffs/",
        "/api/v1/projects/{slug}/members/",
        "/api/v1/events/",
        "/api/v1/checklists/",
        "/api/v1/tokens/",
    ],
)
def test_list_queries_do_not_grow(as_user, django_assert_max_num_queries, path):
    counts = []
    for rows in (5, 50):
        world = make_world()
        _grow(world, rows)
        client = as_user(world.lead)
        url = (
            path.format(slug=world.project.slug, rid=world.review.pk)
            + ("&" if "?" in path else "?")
            + "page_size=100"
        )
        counts.append(_count(django_assert_max_num_queries, client, url, 15))
    assert counts[0] == counts[1], counts


def test_responses_and_version_tree_queries_do_not_grow(as_user, django_assert_max_num_queries):
    counts = []
    for size in (5, 60):
        world = make_world(version=make_big_version(f"big-{size}", size))
        section = world.version.sections.first()
        Section.objects.create(version=world.version, parent=section, title="Group", position=1)
        client = as_user(world.lead)
        counts.append(
            (
                _count(
                    django_assert_max_num_queries,
                    client,
                    f"/api/v1/reviews/{world.review.pk}/responses/?page_size=100",
                    10,
                ),
                _count(
                    django_assert_max_num_queries,
                    client,
                    f"/api/v1/checklists/{world.version.template.slug}/versions/1/",
                    10,
                ),
                _count(
                    django_assert_max_num_queries,
                    client,
                    f"/api/v1/reviews/{world.review.pk}/",
                    40,
                ),
            )
        )
    assert counts[0] == counts[1], counts


def test_answer_save_queries_do_not_grow(as_user, django_assert_max_num_queries):
    """Saving one answer reads the answer once (scoped to what the user may see), then the
    service locks, writes, records and re-checks sign-offs: the same count at any size."""
    counts = []
    for size in (5, 60):
        world = make_world(version=make_big_version(f"save-{size}", size))
        item = world.version.items.order_by("position").first()
        client = as_user(world.lead)
        url = f"/api/v1/reviews/{world.review.pk}/responses/{item.pk}/"
        sizes = []
        for verdict in ("pass", "fail"):
            # The token (and its last-used mark), the answer, the review and answer locks, the
            # update, the audit head and event (with the chain's lock on PostgreSQL), the
            # counters, the current sign-offs, and the savepoint around it all.
            with django_assert_max_num_queries(14) as captured:
                response = client.patch(
                    url, {"verdict": verdict, "note": "Checked."}, format="json"
                )
            assert response.status_code == 200, response.content
            assert response.json()["verdict"] == verdict
            assert response.json()["item"]["key"] == item.key
            sizes.append(len(captured.captured_queries))
        counts.append(sizes)
    assert counts[0] == counts[1], counts
