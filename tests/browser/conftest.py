"""Browser tests: Playwright (Chromium from Debian) against pytest-django's live server."""

import os

import pytest

from reviews.services import review_submit
from tests.accounts.factories import PASSWORD
from tests.reviews.factories import make_world

# Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are
# still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@pytest.fixture
def world(transactional_db):
    world = make_world()
    review_submit(actor=world.author, review=world.review)
    return world


@pytest.fixture
def sign_in(live_server):
    """Sign in through the real sign-in page, as a user would."""

    def _sign_in(page, user, password=PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", user.email)
        page.fill("input[name=password]", password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return _sign_in
