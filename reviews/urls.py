from django.urls import path

from reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("insights/", views.insights, name="insights"),
    path("projects/", views.project_list, name="projects"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("projects/<slug:slug>/members/", views.project_members, name="project_members"),
    path("projects/<slug:slug>/settings/", views.project_settings, name="project_settings"),
    path("projects/<slug:slug>/specs/", views.spec_create, name="spec_create"),
    path("specs/<int:pk>/", views.spec_detail, name="spec"),
    path("specs/<int:pk>/revisions/", views.spec_revision, name="spec_revision"),
    path("specs/<int:pk>/reviews/", views.review_create, name="review_create"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/items/<int:item_id>/", views.answer, name="answer"),
    path("reviews/<int:pk>/sections/<int:section_id>/", views.section_rows, name="section_rows"),
    path(
        "reviews/<int:pk>/sections/<int:section_id>/na/",
        views.section_mark_na,
        name="section_na",
    ),
    path("reviews/<int:pk>/actions/<slug:name>/", views.action, name="action"),
    path("reviews/<int:pk>/reviewers/", views.assign, name="assign"),
    path("reviews/<int:pk>/findings/", views.finding_raise, name="finding_raise"),
    path("reviews/<int:pk>/findings/new/", views.finding_new, name="finding_new"),
    path(
        "reviews/<int:pk>/findings/<int:fid>/resolve/",
        views.finding_resolve,
        name="finding_resolve",
    ),
    path(
        "reviews/<int:pk>/findings/<int:fid>/reopen/", views.finding_reopen, name="finding_reopen"
    ),
    path("reviews/<int:pk>/timeline/", views.timeline, name="timeline"),
    path("reviews/<int:pk>/report/", views.report, name="report"),
    path("reviews/<int:pk>/report.md", views.report_markdown, name="report_md"),
    path("reviews/<int:pk>/report.csv", views.report_csv, name="report_csv"),
]
