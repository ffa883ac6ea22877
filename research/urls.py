from django.urls import path, re_path

from research import views

urlpatterns = [
    path("", views.portal, name="research_portal"),
    path("codebook/", views.codebook, name="research_codebook"),
    path("codebook.json", views.codebook_json, name="research_codebook_json"),
    path("releases/", views.release_list, name="research_releases"),
    path("releases/publish/", views.release_publish, name="research_publish"),
    path("releases/<int:number>/", views.release_detail, name="research_release"),
    path("releases/<int:number>/approve/", views.release_approve, name="research_release_approve"),
    path("releases/<int:number>/discard/", views.release_discard, name="research_release_discard"),
    path("policy/", views.policy, name="research_policy"),
    path("extracts/", views.extract_list, name="research_extracts"),
    path("extracts/<int:pk>/", views.extract_detail, name="research_extract"),
    re_path(
        r"^extracts/(?P<pk>\d+)/download/(?P<file_format>csv|sav|dta)/$",
        views.extract_download,
        name="research_extract_download",
    ),
    path("trends/", views.trends, name="research_trends"),
    re_path(
        r"^tables/(?P<pk>\d+)/download/(?P<file_format>csv|xlsx|json)/$",
        views.trend_download,
        name="research_table_download",
    ),
    path("tables/<int:pk>/", views.table_detail, name="research_table"),
    path("releases/<int:number>/tables/", views.release_tables, name="research_release_tables"),
    path("reports/", views.report_list, name="research_reports"),
    path("programmes/", views.programme_list, name="research_programmes"),
    path("reports/<int:pk>/", views.report_detail, name="research_report"),
    path("reports/<int:pk>/publish/", views.report_publish, name="research_report_publish"),
    re_path(
        r"^reports/(?P<pk>\d+)/download/(?P<file_format>html|pdf|csv|xlsx)/$",
        views.report_download,
        name="research_report_download",
    ),
]
