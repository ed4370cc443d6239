"""One FilterSet per listed model, shared by the browser lists and the API.

Users are named by e-mail and projects by slug, as everywhere in the API.
"""

import re
from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from drf_spectacular.drainage import set_override

from audit.models import Event
from config.api import RFC3339_DATE_TIME
from config.schema import TEXT_PATTERN
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
DIGITS = re.compile(r"[0-9]{1,19}")


class IdField(forms.IntegerField):
    """Digits only: no sign, decimal point, exponent or surrounding spaces; given empty, it is
    refused rather than read as "no filter" (the schema says integer)."""

    def to_python(self, value):
        if value is None:
            return None
        if not DIGITS.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


class RFC3339Field(forms.DateTimeField):
    """An RFC 3339 date-time (the schema's ``date-time``), e.g. 2026-05-01T09:30:00Z."""

    def to_python(self, value):
        if value is None:
            return None
        if not RFC3339_DATE_TIME.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            # well formed, but no such moment (month 13, hour 24…), or outside years 1-9999 in UTC
            return parse_datetime(str(value).upper()).astimezone(UTC)
        except (ValueError, OverflowError, AttributeError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number from 1 (400 otherwise)."""

    field_class = IdField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_INT, **kwargs)
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
        set_override(self, "field", {**schema, "description": str(self.label or "")})


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = RFC3339Field


class TextFilter(django_filters.CharFilter):
    """Any text without NUL (Django's form field refuses NUL with 400)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schema = {"type": "string", "pattern": TEXT_PATTERN}
        if self.label:
            schema["description"] = str(self.label)
        set_override(self, "field", schema)


class ProjectFilterSet(django_filters.FilterSet):
    q = TextFilter(method="search", label="Search")

    class Meta:
        model = Project
        fields = ["q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(slug__icontains=value) | Q(name__icontains=value))


class SpecFilterSet(django_filters.FilterSet):
    project = TextFilter(field_name="project__slug", label="Project (slug)")
    author = TextFilter(field_name="author__email", lookup_expr="iexact")
    q = TextFilter(method="search", label="Search")

    class Meta:
        model = Spec
        fields = ["project", "author", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class ReviewFilterSet(django_filters.FilterSet):
    project = TextFilter(field_name="spec__project__slug", label="Project (slug)")
    state = django_filters.MultipleChoiceFilter(choices=ReviewState.choices)
    reviewer = TextFilter(method="by_reviewer", label="Reviewer (e-mail)")
    spec = IdFilter(field_name="spec_id", label="Spec id")
    q = TextFilter(method="search", label="Search")

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
    project = TextFilter(method="by_project", label="Project (slug)")
    review = IdFilter(field_name="review_id", label="Review id")
    actor = TextFilter(field_name="actor__email", lookup_expr="iexact")
    verb = TextFilter(field_name="verb")
    since = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ["project", "review", "actor", "verb", "since", "until"]

    def by_project(self, queryset, name, value):
        project_id = Project.objects.filter(slug=value).values_list("pk", flat=True).first()
        return queryset.filter(project_id=project_id) if project_id else queryset.none()
