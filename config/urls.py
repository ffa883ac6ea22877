from django.contrib import admin
from django.urls import include, path

from assistance.urls import case_urlpatterns

admin.site.site_header = "Casework administration"
admin.site.site_title = "Casework administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("research/", include("research.urls")),
    path("transfer/", include("transfer.urls")),
    path("cases/<uuid:public_id>/screening/", include("screening.urls")),
    path("cases/<uuid:public_id>/", include(case_urlpatterns)),
    path("", include("assistance.urls")),
    path("", include("dedupe.urls")),
    path("", include("casework.urls")),
]
