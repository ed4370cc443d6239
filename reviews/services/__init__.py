"""The only writers of the reviews domain. Views, admin, API and commands call these.

Lock order. Every service takes its locks in this order, and never one from earlier in the
list once it holds a later one (two services that did would wait for each other — on
PostgreSQL, ``deadlock detected``):

1. the project (``_lock_project``: memberships and settings);
2. the spec (``spec_post_revision``);
3. reviews, by ascending id (``lock_review``; several at once only in ``spec_post_revision``);
4. the review's own rows — responses, findings, sign-offs, assignments — which are written
   only by a transaction that holds their review's lock;
5. the audit chain, last: ``record_event`` (``audit.services``) takes it and keeps it until
   commit, so a service writes and deletes its rows first and records the event after them
   (a review's own rows, step 4, may still follow: their review's lock covers them).

Checklist, token and webhook services lock their own row, then the audit chain.
"""

from reviews.services._common import progress_refresh
from reviews.services.answers import (
    AnswerInput,
    response_save,
    response_save_batch,
    response_state,
    section_mark_na,
)
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
    signoff_warnings,
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
    "section_mark_na",
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
    "signoff_warnings",
    "spec_create",
    "spec_post_revision",
    "why_not",
]
