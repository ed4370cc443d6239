from django.urls import path

from checklists import views

app_name = "checklists"
urlpatterns = [
    path("", views.library, name="library"),
    path("<slug:slug>/", views.template_detail, name="template"),
    path("<slug:slug>/compare/", views.compare, name="compare"),
    path("<slug:slug>/v<int:number>/", views.version_detail, name="version"),
    path("<slug:slug>/v<int:number>/export.md", views.version_export, name="export"),
]
