import pytest

from reviews import services
from tests.reviews.factories import make_world


@pytest.fixture
def world():
    """A review of the standard world, submitted (in review): what most review tests start
    from. Modules that need another start define their own ``world``."""
    w = make_world()
    services.review_submit(actor=w.author, review=w.review)
    return w
