"""The benchmark's dataset, then the per-endpoint query counts and the growth runs.

Run by ``bench/run.py`` in a Django process with production settings against the freshly
migrated ``specgate_bench`` database. Writes ``bench/results/.state.json`` (ids, token, session
cookie for the load driver) and ``bench/results/.queries.json`` (queries and growth).

The bulk (projects, specs, 5,000 reviews with their answers, findings and sign-offs) is written
with ``bulk_create``; the reviews the benchmark looks at closely (the ~1,000-item review and the
~100 / ~300-item growth reviews) are made through the services, as a user would.
"""

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.services import token_create  # noqa: E402
from checklists.models import Item, TemplateVersion  # noqa: E402
from reviews.models import (  # noqa: E402
    Assignment,
    Decision,
    Finding,
    FindingSeverity,
    FindingStatus,
    Membership,
    Project,
    Response,
    Review,
    ReviewState,
    ReviewTemplate,
    Role,
    SignOff,
    SignOffRole,
    Spec,
    SpecRevision,
    Verdict,
)
from reviews.services import (  # noqa: E402
    AnswerInput,
    finding_raise,
    progress_refresh,
    response_save_batch,
    review_create,
    review_submit,
    signoff_create,
)

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = Path(os.environ.get("BENCH_SEEDS", Path(__file__).resolve().parents[2] / "shared/seeds"))
PROJECTS = 50
SPECS = 2_000
REVIEWS = 5_000
SMALL_LIST = 100  # the API review list is also measured with this many reviews in the database
PASSWORD = "bench-password-not-secret"
rng = random.Random(20261122)
User = get_user_model()


def log(msg: str) -> None:
    print(f"[dataset {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- checklists --------------------------------------------------------------------------------


def import_seeds(curator) -> list[TemplateVersion]:
    """Publish the five seed checklists through the importer service (retrying while the
    service is still being finished by its authors)."""
    for attempt in range(30):
        try:
            from checklists.services import checklist_import

            break
        except ImportError as exc:
            log(f"checklists.services.checklist_import not importable yet ({exc}); retrying")
            time.sleep(10 + attempt)
    else:
        raise SystemExit("checklists.services.checklist_import never became importable")
    versions = []
    for path in sorted(SEEDS.glob("*.txt")):
        result = checklist_import(
            actor=curator, data=path.read_bytes(), source_name=path.name, publish=True
        )
        versions.append(result.version)
    if len(versions) != 5:
        raise SystemExit(f"expected five seed checklists in {SEEDS}, found {len(versions)}")
    return versions


# --- people, projects, specs -------------------------------------------------------------------


def make_users():
    lead = User.objects.create_superuser("lead@bench.example", PASSWORD, display_name="Bench Lead")
    # A superuser must have TOTP (SPECGATE_MFA_REQUIRED, on as in production): the browser
    # requests pay the check's query, as a lead's do.
    TOTP.activate(lead, generate_totp_secret())
    authors = [
        User(email=f"author{i}@bench.example", display_name=f"Author {i}") for i in range(10)
    ]
    reviewers = [
        User(email=f"reviewer{i}@bench.example", display_name=f"Reviewer {i}") for i in range(20)
    ]
    unusable = lead.password  # one hash for all: hashing 30 passwords would cost seconds
    for user in authors + reviewers:
        user.password = unusable
    User.objects.bulk_create(authors + reviewers)
    return (
        lead,
        list(User.objects.filter(email__startswith="author")),
        list(User.objects.filter(email__startswith="reviewer")),
    )


def make_projects(lead, authors, reviewers):
    projects = Project.objects.bulk_create(
        Project(slug=f"bench-{i:02d}", name=f"Bench project {i:02d}", required_signoffs=1 + i % 2)
        for i in range(PROJECTS)
    )
    memberships = []
    for i, project in enumerate(projects):
        memberships.append(
            Membership(project=project, user=lead, role=Role.LEAD, can_override=True)
        )
        memberships.append(
            Membership(project=project, user=authors[i % len(authors)], role="author")
        )
        for j in range(3):
            memberships.append(
                Membership(
                    project=project, user=reviewers[(i + j) % len(reviewers)], role="reviewer"
                )
            )
    Membership.objects.bulk_create(memberships)
    return projects


def make_specs(projects, authors):
    now = timezone.now()
    specs = []
    for i in range(SPECS):
        project = projects[i % len(projects)]
        specs.append(
            Spec(
                project=project,
                title=f"Spec {i:04d}: {rng.choice(['Billing', 'Search', 'Auth', 'Export'])} "
                f"{rng.choice(['API', 'service', 'pipeline', 'migration'])}",
                link=f"https://docs.example.com/specs/{i}",
                description="A realistic enough description of what is being built. " * 3,
                author=authors[(i // len(projects)) % len(authors)],
                created_at=now - timedelta(days=rng.randint(0, 365)),
            )
        )
    specs = Spec.objects.bulk_create(specs, batch_size=1000)
    SpecRevision.objects.bulk_create(
        (
            SpecRevision(spec=s, number=1, label="r1", link=s.link, posted_by_id=s.author_id)
            for s in specs
        ),
        batch_size=1000,
    )
    return specs


# --- the reviews looked at closely (through the services) --------------------------------------


def service_review(lead, reviewers, spec, versions, *, findings=3, signoffs=True) -> Review:
    review = review_create(
        actor=lead,
        spec=spec,
        template_version_ids=[v.pk for v in versions],
        reviewers=[r.email for r in reviewers],
    )
    review = review_submit(actor=lead, review=review)
    items = list(Item.objects.filter(version__in=versions).order_by("version_id", "position", "id"))
    half = items[: len(items) // 2]
    entries = []
    for n, item in enumerate(half):
        verdict = [Verdict.PASS, Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.NA][n % 5]
        note = "" if verdict == Verdict.PASS else "Noted by the benchmark reviewer."
        entries.append(AnswerInput(item.pk, verdict, note))
    response_save_batch(actor=reviewers[0], review=review, entries=entries)
    severities = list(FindingSeverity.values)
    for n in range(findings):
        finding_raise(
            actor=reviewers[n % len(reviewers)],
            review=review,
            severity=severities[n % len(severities)],
            title=f"Finding {n}: the spec does not say what happens on timeout",
            impact="Clients retry forever.",
            recommendation="Specify the timeout and the retry policy.",
            item_id=half[n * 7 % len(half)].pk,
        )
    if signoffs:
        for reviewer in reviewers:
            signoff_create(actor=reviewer, review=review, comment="Reviewed.")
    return Review.objects.get(pk=review.pk)


# --- the bulk ----------------------------------------------------------------------------------

STATES = [
    (ReviewState.DRAFT, 15),
    (ReviewState.IN_REVIEW, 40),
    (ReviewState.CHANGES_REQUESTED, 15),
    (ReviewState.APPROVED, 25),
    (ReviewState.WITHDRAWN, 5),
]


class Bulk:
    def __init__(self, lead, authors, reviewers, projects, specs, versions):
        self.lead, self.authors, self.reviewers = lead, authors, reviewers
        self.specs, self.versions = specs, versions
        self.items = {
            v.pk: list(Item.objects.filter(version=v).values_list("pk", flat=True))
            for v in versions
        }
        self.project_reviewers: dict[int, list[int]] = {}
        for m in Membership.objects.filter(role="reviewer").order_by("id"):
            self.project_reviewers.setdefault(m.project_id, []).append(m.user_id)
        self.made = 0

    def add(self, count: int) -> None:
        """Add ``count`` reviews with their templates, answers, assignments, findings and
        sign-offs (about 220 answers per review on average)."""
        now = timezone.now()
        states = [s for s, w in STATES for _ in range(w)]
        for start in range(0, count, 250):
            chunk = min(250, count - start)
            with transaction.atomic():
                reviews, choices = [], []
                for k in range(chunk):
                    n = self.made + start + k
                    spec = self.specs[n % len(self.specs)]
                    state = states[rng.randrange(len(states))]
                    created = spec.created_at + timedelta(hours=rng.randint(1, 500))
                    reviews.append(
                        Review(
                            spec=spec,
                            state=state,
                            created_by=self.lead if n % 4 == 0 else spec.author,
                            created_at=created,
                            updated_at=created + timedelta(hours=2),
                            submitted_at=None if state == ReviewState.DRAFT else created,
                            approved_at=created + timedelta(days=2)
                            if state == ReviewState.APPROVED
                            else None,
                            due_date=(created + timedelta(days=14)).date(),
                        )
                    )
                    choices.append(self.versions[n % len(self.versions)])
                reviews = Review.objects.bulk_create(reviews)
                ReviewTemplate.objects.bulk_create(
                    ReviewTemplate(review=r, version=v, position=0)
                    for r, v in zip(reviews, choices, strict=True)
                )
                responses, assignments, findings, signoffs = [], [], [], []
                for review, version in zip(reviews, choices, strict=True):
                    self._rows(review, version, now, responses, assignments, findings, signoffs)
                Response.objects.bulk_create(responses, batch_size=5000)
                progress_refresh([r.pk for r in reviews])  # the counters the services keep
                Assignment.objects.bulk_create(assignments)
                Finding.objects.bulk_create(findings)
                SignOff.objects.bulk_create(signoffs)
        self.made += count

    def _rows(self, review, version, now, responses, assignments, findings, signoffs):
        state = review.state
        answered_share = {
            ReviewState.DRAFT: 0.0,
            ReviewState.IN_REVIEW: rng.random(),
            ReviewState.CHANGES_REQUESTED: 0.9,
            ReviewState.APPROVED: 1.0,
            ReviewState.WITHDRAWN: 0.3,
        }[state]
        project_id = review.spec.project_id
        team = self.project_reviewers[project_id]
        reviewer = team[review.pk % len(team)]
        items = self.items[version.pk]
        cut = int(len(items) * answered_share)
        for n, item_id in enumerate(items):
            if n < cut:
                fail = state == ReviewState.CHANGES_REQUESTED and n % 9 == 0
                responses.append(
                    Response(
                        review=review,
                        item_id=item_id,
                        verdict=Verdict.FAIL if fail else Verdict.PASS,
                        note="Missing error codes." if fail else "",
                        answered_by_id=reviewer,
                        answered_at=review.created_at + timedelta(hours=1),
                        version=2,
                    )
                )
            else:
                responses.append(Response(review=review, item_id=item_id))
        assignments.append(Assignment(review=review, user_id=reviewer, assigned_by=self.lead))
        if review.pk % 3 == 0:  # the lead reviews some himself: his dashboard has work on it
            assignments.append(Assignment(review=review, user=self.lead, assigned_by=self.lead))
        if state != ReviewState.DRAFT and review.pk % 2 == 0:
            for f in range(1 + review.pk % 3):
                findings.append(
                    Finding(
                        review=review,
                        item_id=items[(f * 13) % len(items)],
                        severity=list(FindingSeverity.values)[f % 4],
                        title=f"Finding {f} on review {review.pk}",
                        impact="Integrators cannot tell a retry from a failure.",
                        status=FindingStatus.RESOLVED
                        if state == ReviewState.APPROVED
                        else FindingStatus.OPEN,
                        raised_by_id=reviewer,
                        created_at=review.created_at + timedelta(hours=1),
                        updated_at=review.created_at + timedelta(hours=1),
                    )
                )
        if state in (ReviewState.APPROVED, ReviewState.IN_REVIEW) and review.pk % 2 == 1:
            signoffs.append(
                SignOff(
                    review=review,
                    user_id=reviewer,
                    role=SignOffRole.REVIEWER,
                    decision=Decision.APPROVE,
                    digest="0" * 64,
                    created_at=review.created_at + timedelta(hours=3),
                )
            )
        if state == ReviewState.APPROVED:
            signoffs.append(
                SignOff(
                    review=review,
                    user=self.lead,
                    role=SignOffRole.LEAD,
                    decision=Decision.APPROVE,
                    digest="0" * 64,
                    created_at=review.created_at + timedelta(days=2),
                )
            )


# --- measuring: queries per request and growth (test Client, not under load) -------------------


class Probe:
    def __init__(self, lead, token: str):
        self.api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        self.page = Client()
        self.page.force_login(lead)
        self.flip = 0

    def request(self, endpoint: str, review_id: int, item_id: int | None = None):
        if endpoint == "floor":
            return self.api.get("/api/v1/me/")
        if endpoint == "review_page":
            return self.page.get(f"/reviews/{review_id}/")
        if endpoint == "answer_save":
            self.flip += 1
            return self.api.patch(
                f"/api/v1/reviews/{review_id}/responses/{item_id}/",
                data={"verdict": "fail" if self.flip % 2 else "pass", "note": "Bench flip."},
                content_type="application/json",
            )
        if endpoint == "gate":
            return self.api.get(f"/api/v1/reviews/{review_id}/gate/")
        if endpoint == "dashboard":
            return self.page.get("/")
        if endpoint == "api_reviews":
            return self.api.get("/api/v1/reviews/?page_size=50")
        if endpoint == "api_responses":
            return self.api.get(f"/api/v1/reviews/{review_id}/responses/")
        raise ValueError(endpoint)

    def queries(self, endpoint: str, review_id: int, item_id: int | None = None) -> dict:
        """Queries of one warm request built afresh (the read cache off; after one warm-up
        request, whose count is kept as ``cold``), and of one served by the read cache."""
        counts = []
        for uncached in (True, True, False, False):
            with CaptureQueriesContext(connection) as ctx, self.cache(on=not uncached):
                response = self.request(endpoint, review_id, item_id)
            if response.status_code >= 400:
                raise SystemExit(
                    f"{endpoint}: HTTP {response.status_code}: {response.content[:300]}"
                )
            counts.append(len(ctx.captured_queries))
        return {"cold": counts[0], "warm": counts[1], "cached": counts[3]}

    @staticmethod
    def cache(on: bool):
        """Reads cached by the head of the audit chain (audit/cache.py) on or off."""
        return override_settings(SPECGATE_READ_CACHE_SECONDS=300 if on else 0)

    def timed(self, endpoint: str, review_id: int, calls: int) -> dict:
        """p50 of ``calls`` requests built afresh (the read cache off: the cost, not a hit)."""
        with self.cache(on=False):
            return self._timed(endpoint, review_id, calls)

    def _timed(self, endpoint: str, review_id: int, calls: int) -> dict:
        self.request(endpoint, review_id)  # warm-up
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            self.request(endpoint, review_id)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as ctx:
            self.request(endpoint, review_id)
        return {"p50_ms": round(statistics.median(times), 2), "queries": len(ctx.captured_queries)}


def measure(probe: Probe, review_id: int, item_id: int, sized_reviews, calls: int):
    """Queries per endpoint (one warm request each), then the growth of the review page and the
    answers API with the review's size and of the review list API with the database's."""
    queries = {}
    for endpoint in (
        "floor",
        "review_page",
        "answer_save",
        "gate",
        "dashboard",
        "api_reviews",
        "api_responses",
    ):
        queries[endpoint] = probe.queries(endpoint, review_id, item_id)
        log(f"queries {endpoint}: {queries[endpoint]}")
    growth = [
        {
            "endpoint": "api_reviews",
            "size": Review.objects.count(),
            **probe.timed("api_reviews", 0, calls),
        }
    ]
    for review in sized_reviews:
        for endpoint in ("review_page", "api_responses"):
            row = {"endpoint": endpoint, "size": review.responses.count()}
            row.update(probe.timed(endpoint, review.pk, calls))
            growth.append(row)
            log(f"growth {row}")
    return queries, growth


def remeasure(calls: int) -> None:
    """``--measure``: the dataset is already there (``run.py --quick``); count queries and run
    the growth again against the current code. The review list with 100 reviews in the database
    can only be measured while building: that row is kept from the build."""
    state = json.loads((RESULTS / ".state.json").read_text())
    old = json.loads((RESULTS / ".queries.json").read_text())
    lead = User.objects.get(email="lead@bench.example")
    probe = Probe(lead, state["token"])
    reviews = list(Review.objects.order_by("pk")[:3])  # made first, through the services
    sized = sorted(reviews, key=lambda r: r.responses.count())
    queries, growth = measure(probe, state["review_id"], state["answer_probe"], sized, calls)
    growth += [g for g in old["growth"] if g["endpoint"] == "api_reviews" and g["size"] < 1000]
    growth.sort(key=lambda g: (g["endpoint"], g["size"]))
    (RESULTS / ".queries.json").write_text(json.dumps({"queries": queries, "growth": growth}))


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    calls = int(os.environ.get("BENCH_GROWTH_CALLS", "20"))
    started = time.monotonic()
    lead, authors, reviewers = make_users()
    versions = import_seeds(lead)
    log(f"imported {len(versions)} checklists ({Item.objects.count()} items)")
    projects = make_projects(lead, authors, reviewers)
    specs = make_specs(projects, authors)
    log(f"{len(projects)} projects, {len(specs)} specs")

    # Reviews looked at closely: all five checklists (~1,000 items), ~300 and ~100 items.
    project = projects[0]
    team = list(User.objects.filter(memberships__project=project, memberships__role="reviewer"))
    by_size = sorted(versions, key=lambda v: v.items.count())  # 51, 55, 213, 270, 499 items
    big = service_review(lead, team[:2], specs[0], versions, findings=8)
    mid = service_review(lead, team[:1], specs[PROJECTS], [by_size[0], by_size[2], by_size[1]])
    small = service_review(lead, team[:1], specs[2 * PROJECTS], by_size[:2])
    sized = {r.pk: r.responses.count() for r in (small, mid, big)}  # review id -> items
    log(f"service reviews: {sized} (review id: items)")

    bulk = Bulk(lead, authors, reviewers, projects, specs, versions)
    bulk.add(SMALL_LIST - 3)
    issued = token_create(actor=lead, name="benchmark", expires_in_days=30)
    probe = Probe(lead, issued.raw)
    growth = [
        {
            "endpoint": "api_reviews",
            "size": Review.objects.count(),
            **probe.timed("api_reviews", 0, calls),
        }
    ]
    log(f"api_reviews with {Review.objects.count()} reviews: {growth[0]}")
    bulk.add(REVIEWS - SMALL_LIST)
    log(
        f"bulk done: {Review.objects.count()} reviews, {Response.objects.count()} answers, "
        f"{Finding.objects.count()} findings, {SignOff.objects.count()} sign-offs "
        f"({time.monotonic() - started:.0f} s)"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would soon give

    pool = list(
        big.responses.filter(verdict=Verdict.PASS)
        .order_by("item_id")
        .values_list("item_id", flat=True)
    )
    queries, more = measure(probe, big.pk, pool[-1], [small, mid, big], calls)
    growth += more
    growth.sort(key=lambda g: (g["endpoint"], g["size"]))

    session = probe.page.cookies["sessionid"].value
    state = {
        "review_id": big.pk,
        "review_items": sized[big.pk],
        "answer_items": pool[:-1],
        "answer_probe": pool[-1],
        "lead_has_totp": True,
        "token": issued.raw,
        "sessionid": session,
        "counts": {
            "projects": Project.objects.count(),
            "specs": Spec.objects.count(),
            "reviews": Review.objects.count(),
            "responses": Response.objects.count(),
            "findings": Finding.objects.count(),
            "signoffs": SignOff.objects.count(),
        },
        "build_seconds": round(time.monotonic() - started, 1),
    }
    # Leave the database as it would be in service: vacuumed (autovacuum would otherwise work
    # through the million new rows during the first runs) and with the bulk load's WAL flushed
    # (a checkpoint in the middle of a run stalls its commits).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    log(f"vacuumed and checkpointed ({time.monotonic() - started:.0f} s)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ".state.json").write_text(json.dumps(state))
    (RESULTS / ".queries.json").write_text(json.dumps({"queries": queries, "growth": growth}))
    log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    if "--measure" in sys.argv:
        remeasure(int(os.environ.get("BENCH_GROWTH_CALLS", "20")))
    else:
        main()
