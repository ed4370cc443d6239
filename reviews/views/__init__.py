"""Browser views for projects, specs and reviews."""

from reviews.views.pages import (
    dashboard,
    insights,
    project_detail,
    project_list,
    project_members,
    project_settings,
    review_create,
    spec_create,
    spec_detail,
    spec_revision,
)
from reviews.views.report import report, report_csv, report_markdown
from reviews.views.review import (
    action,
    answer,
    assign,
    finding_new,
    finding_raise,
    finding_reopen,
    finding_resolve,
    review_detail,
    section_rows,
    timeline,
)
from reviews.views.speed import section_mark_na

__all__ = [
    "action",
    "answer",
    "assign",
    "dashboard",
    "finding_new",
    "finding_raise",
    "finding_reopen",
    "finding_resolve",
    "insights",
    "project_detail",
    "project_list",
    "project_members",
    "project_settings",
    "report",
    "report_csv",
    "report_markdown",
    "review_create",
    "section_mark_na",
    "review_detail",
    "section_rows",
    "timeline",
    "spec_create",
    "spec_detail",
    "spec_revision",
]
