"""The reviews API, one module per resource."""

from reviews.api.views.events import EventViewSet
from reviews.api.views.projects import ProjectViewSet
from reviews.api.views.reviews import ReviewViewSet
from reviews.api.views.specs import SpecViewSet

__all__ = ["EventViewSet", "ProjectViewSet", "ReviewViewSet", "SpecViewSet"]
