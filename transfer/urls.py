from django.urls import path

from transfer import views

urlpatterns = [
    path("", views.import_upload, name="transfer_upload"),
    path("template/", views.import_template, name="transfer_template"),
    path("export/", views.mission_export, name="transfer_export"),
    path("<uuid:preview_id>/", views.import_preview, name="transfer_preview"),
    path("<uuid:preview_id>/confirm/", views.import_confirm, name="transfer_confirm"),
    path("<uuid:preview_id>/cancel/", views.import_cancel, name="transfer_cancel"),
]
