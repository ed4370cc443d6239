"""Tasks the worker tests enqueue (importable by a worker in another process)."""

from django.db import OperationalError
from django.tasks import task

_failed_once: set[str] = set()


@task()
def echo(marker: str) -> str:
    return marker


@task()
def fails_on_the_database_once(marker: str) -> str:
    """Fails the first time as a task does when the database goes away under it."""
    if marker not in _failed_once:
        _failed_once.add(marker)
        raise OperationalError("server closed the connection unexpectedly")
    return marker


outage = None  # set by a test: an object whose ``down`` makes every query fail


@task()
def loses_the_database_once(marker: str) -> str:
    """The database goes away while this runs (the first time): the worker cannot even record
    the failure."""
    if marker not in _failed_once:
        _failed_once.add(marker)
        outage.down = True
        raise OperationalError("terminating connection due to administrator command")
    return marker
