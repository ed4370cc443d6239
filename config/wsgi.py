import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()


def _warm() -> None:
    """Import now what the first request would (every view, the URL resolver, the cache's client
    library: ~0.5 s otherwise). Under gunicorn's ``preload_app`` the master does it once, before
    it forks, so a worker that replaces another starts warm. Opens no connection."""
    from django.core.cache import cache
    from django.urls import get_resolver, reverse

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and every view it names
    reverse("healthz")
    getattr(cache, "_cache", None)  # Redis: imports redis-py and makes the client, unconnected


_warm()
