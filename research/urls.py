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
]
