from django.urls import path

from assistance import views

case_urlpatterns = [
    path("assistance/start/", views.assistance_start, name="assistance_start"),
    path("assistance/interview/", views.AssistanceWizard.as_view(), name="assistance_wizard"),
    path("assistance/v<int:number>/", views.assistance_summary, name="assistance_summary"),
    path("assistance/v<int:number>/correct/", views.assistance_correct, name="assistance_correct"),
    path("services/new/", views.service_create, name="service_create"),
    path("services/<int:service_id>/", views.service_edit, name="service_edit"),
    path("return/new/", views.return_plan, name="return_plan"),
    path("return/<int:movement_id>/arrival/", views.return_arrival, name="return_arrival"),
    path("return/<int:movement_id>/cancel/", views.return_cancel, name="return_cancel"),
    path("reintegration/new/", views.reintegration_plan, name="reintegration_plan"),
    path("reintegration/visits/new/", views.follow_up_schedule, name="follow_up_schedule"),
    path("reintegration/visits/<int:visit_id>/", views.follow_up_record, name="follow_up_record"),
    path(
        "reintegration/visits/<int:visit_id>/missed/",
        views.follow_up_missed,
        name="follow_up_missed",
    ),
]

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export/", views.dashboard_export, name="dashboard_export"),
]
