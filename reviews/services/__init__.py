"""The only writers of the reviews domain. Views, admin, API and commands call these."""

from reviews.services._common import progress_refresh
from reviews.services.answers import AnswerInput, response_save, response_save_batch, response_state
from reviews.services.findings import finding_raise, finding_reopen, finding_resolve, finding_update
from reviews.services.projects import (
    membership_remove,
    membership_set,
    project_create,
    project_settings_update,
)
from reviews.services.specs import spec_create, spec_post_revision
from reviews.services.workflow import (
    ACTIONS,
    available_actions,
    override_grant,
    review_approve,
    review_assign,
    review_create,
    review_migrate,
    review_reopen,
    review_request_changes,
    review_submit,
    review_unassign,
    review_withdraw,
    signoff_create,
    why_not,
)

__all__ = [
    "ACTIONS",
    "AnswerInput",
    "available_actions",
    "finding_raise",
    "finding_reopen",
    "finding_resolve",
    "finding_update",
    "membership_remove",
    "membership_set",
    "override_grant",
    "progress_refresh",
    "project_create",
    "project_settings_update",
    "response_save",
    "response_save_batch",
    "response_state",
    "review_approve",
    "review_assign",
    "review_create",
    "review_migrate",
    "review_reopen",
    "review_request_changes",
    "review_submit",
    "review_unassign",
    "review_withdraw",
    "signoff_create",
    "spec_create",
    "spec_post_revision",
    "why_not",
]
