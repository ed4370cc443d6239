"""Settings for the app and worker processes the fault tests start: the test settings, with
tasks in the database (as in production) so that a worker runs them."""

from config.settings import base
from config.settings.test import *  # noqa: F403

TASKS = {
    "default": {
        **base.TASKS["default"],
        "QUEUES": sorted(
            {*base.TASKS["default"].get("QUEUES", ["default"]), "default", "webhooks"}
        ),
    }
}
