from django.urls import path

from checklists import views

app_name = "checklists"
urlpatterns = [
    path("", views.library, name="library"),
    # Before "<slug>/": a checklist whose slug is "import" is still reached by its versions.
    path("import/", views.import_upload, name="import"),
    path("import/confirm/", views.import_confirm, name="import_confirm"),
    path("<slug:slug>/", views.template_detail, name="template"),
    path("<slug:slug>/compare/", views.compare, name="compare"),
    path("<slug:slug>/v<int:number>/", views.version_detail, name="version"),
    path("<slug:slug>/v<int:number>/export.md", views.version_export, name="export"),
    path("<slug:slug>/v<int:number>/publish/", views.version_publish, name="publish"),
]
