"""Site-wide permission predicates (project-scoped ones live in reviews.permissions)."""

CURATOR_GROUP = "curator"


def is_curator(user) -> bool:
    """Curators (a group) and superusers manage checklist templates."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_specgate_is_curator", None)
    if cached is None:
        cached = user.groups.filter(name=CURATOR_GROUP).exists()
        user._specgate_is_curator = cached
    return cached


def is_site_administrator(user) -> bool:
    """Site administrators (superusers) create users and projects, staff any project and grant
    the curator role. ``is_staff`` is not one: it only opens the admin."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def can_read_published_templates(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)
