from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Casework administration"
admin.site.site_title = "Casework administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("cases/<uuid:public_id>/screening/", include("screening.urls")),
    path("", include("casework.urls")),
]
