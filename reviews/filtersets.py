"""One FilterSet per listed model, shared by the browser lists and the API.

Users are named by e-mail and projects by slug, as everywhere in the API.
"""

import django_filters
from django.db.models import Q

from audit.models import Event
from reviews.models import (
    Finding,
    FindingSeverity,
    FindingStatus,
    Project,
    Review,
    ReviewState,
    Spec,
)

MAX_INT = 2**62  # beyond this a database integer overflows


class ProjectFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Project
        fields = ["q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(slug__icontains=value) | Q(name__icontains=value))


class SpecFilterSet(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__slug", label="Project (slug)")
    author = django_filters.CharFilter(field_name="author__email", lookup_expr="iexact")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Spec
        fields = ["project", "author", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class ReviewFilterSet(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="spec__project__slug", label="Project (slug)")
    state = django_filters.MultipleChoiceFilter(choices=ReviewState.choices)
    reviewer = django_filters.CharFilter(method="by_reviewer", label="Reviewer (e-mail)")
    spec = django_filters.NumberFilter(
        field_name="spec_id", label="Spec id", min_value=1, max_value=MAX_INT
    )
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Review
        fields = ["project", "state", "reviewer", "spec", "q"]

    def by_reviewer(self, queryset, name, value):
        return queryset.filter(assignments__user__email__iexact=value.strip()).distinct()

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(spec__title__icontains=value) | Q(spec__description__icontains=value)
        )


class FindingFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices)
    severity = django_filters.MultipleChoiceFilter(choices=FindingSeverity.choices)

    class Meta:
        model = Finding
        fields = ["status", "severity"]


class EventFilterSet(django_filters.FilterSet):
    project = django_filters.CharFilter(method="by_project", label="Project (slug)")
    review = django_filters.NumberFilter(
        field_name="review_id", label="Review id", min_value=1, max_value=MAX_INT
    )
    actor = django_filters.CharFilter(field_name="actor__email", lookup_expr="iexact")
    verb = django_filters.CharFilter(field_name="verb")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ["project", "review", "actor", "verb", "since", "until"]

    def by_project(self, queryset, name, value):
        project_id = Project.objects.filter(slug=value).values_list("pk", flat=True).first()
        return queryset.filter(project_id=project_id) if project_id else queryset.none()
