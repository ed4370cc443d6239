"""Factories and a small world for the reviews domain tests."""

from dataclasses import dataclass

import factory

from checklists.models import ChecklistTemplate, Item, Section, TemplateVersion
from reviews.models import Membership, Project, Review, Role, Spec, SpecRevision
from reviews.services import response_save, review_create, review_submit, signoff_create
from tests.accounts.factories import UserFactory


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.Sequence(lambda n: f"Project {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.REVIEWER


class SpecFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Spec
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Spec {n}")
    link = "https://docs.example.com/spec"
    author = factory.SubFactory(UserFactory)

    @factory.post_generation
    def first_revision(self, create, extracted, **kwargs):
        if create:
            SpecRevision.objects.create(
                spec=self,
                number=1,
                label=self.revision_label,
                link=self.link,
                posted_by=self.author,
            )


# (text, severity, is_gate, optional)
DEFAULT_ITEMS = [
    ("Gate: the API contract is written down", "must", True, False),
    ("Errors are specified for every endpoint", "must", False, False),
    ("Metrics are named", "should", False, True),
    ("A diagram shows the data flow", "could", False, False),
]


def make_version(
    slug="api-review", number=1, items=DEFAULT_ITEMS, status="published", template=None, keys=None
) -> TemplateVersion:
    template = (
        template
        or ChecklistTemplate.objects.get_or_create(
            slug=slug, defaults={"title": slug.replace("-", " ").title()}
        )[0]
    )
    version = TemplateVersion.objects.create(template=template, number=number, status=status)
    section = Section.objects.create(version=version, title="Main", position=0)
    Item.objects.bulk_create(
        Item(
            version=version,
            section=section,
            key=(keys[i] if keys else f"item-{i}"),
            text=text,
            severity=severity,
            is_gate=gate,
            optional=optional,
            position=i,
        )
        for i, (text, severity, gate, optional) in enumerate(items)
    )
    return version


def make_big_version(slug: str, count: int) -> TemplateVersion:
    items = [
        (f"Item {i}", "must" if i % 3 == 0 else "should", i % 10 == 0, False) for i in range(count)
    ]
    return make_version(slug=slug, items=items)


def make_sectioned_version(slug: str, sections: int, per_section: int) -> TemplateVersion:
    """``sections`` sections of ``per_section`` items; the second one holds its items in two
    groups (sub-sections)."""
    template = ChecklistTemplate.objects.create(slug=slug, title=slug.replace("-", " ").title())
    version = TemplateVersion.objects.create(template=template, number=1, status="published")
    items = []
    position = 0
    for s in range(sections):
        section = Section.objects.create(version=version, title=f"Section {s}", position=s)
        homes = [section]
        if s == 1:
            homes = [
                Section.objects.create(
                    version=version, parent=section, title=f"Group {g}", position=g
                )
                for g in range(2)
            ]
        for i in range(per_section):
            items.append(
                Item(
                    version=version,
                    section=homes[i * len(homes) // per_section],
                    key=f"s{s}-i{i}",
                    text=f"Item {i} of section {s}",
                    severity="must" if i % 3 == 0 else "should",
                    is_gate=i % 10 == 0,
                    position=position,
                )
            )
            position += 1
    Item.objects.bulk_create(items)
    return version


@dataclass
class World:
    project: Project
    viewer: object
    author: object
    reviewer: object
    reviewer2: object
    lead: object
    lead2: object
    outsider: object
    spec: Spec
    version: TemplateVersion
    review: Review

    def items(self):
        return {item.key: item for item in self.version.items.all()}


def make_world(required_signoffs=1, version=None) -> World:
    project = ProjectFactory(required_signoffs=required_signoffs)
    users = {}
    for name, role in [
        ("viewer", Role.VIEWER),
        ("author", Role.AUTHOR),
        ("reviewer", Role.REVIEWER),
        ("reviewer2", Role.REVIEWER),
        ("lead", Role.LEAD),
        ("lead2", Role.LEAD),
    ]:
        user = UserFactory(email=f"{name}.{project.slug}@example.com")
        Membership.objects.create(
            project=project, user=user, role=role, can_override=(name == "lead")
        )
        users[name] = user
    outsider = UserFactory(email=f"outsider.{project.slug}@example.com")
    spec = SpecFactory(project=project, author=users["author"])
    version = version or make_version(slug=f"tpl-{project.slug}")
    review = review_create(
        actor=users["author"],
        spec=spec,
        template_version_ids=[version.pk],
        reviewers=[users["reviewer"].email],
    )
    return World(
        project=project, outsider=outsider, spec=spec, version=version, review=review, **users
    )


def make_ready_world() -> World:
    """A world whose review a lead may approve: submitted, every item passed, the reviewer's
    sign-off in."""
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    for item in world.version.items.all():
        response_save(actor=world.reviewer, review=world.review, item_id=item.pk, verdict="pass")
    signoff_create(actor=world.reviewer, review=world.review)
    return world
