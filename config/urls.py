from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views

admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Specgate administration"
admin.site.site_title = "Specgate admin"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Clients that ask for /favicon.ico without reading the page's icon link (the static file's
    # name changes with its content: a temporary redirect).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # Swagger UI from our static files, its start-up script as a file (?script=): the
        # page works under our CSP (no CDN, no inline script or style).
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("api/v1/", include("config.api_urls")),
    path("", include("accounts.urls")),
    path("checklists/", include("checklists.urls")),
    path("", include("reviews.urls")),
]

handler400 = "config.views.handler400"
handler403 = "config.views.handler403"
handler404 = "config.views.handler404"
handler500 = "config.views.handler500"
