from django.urls import path

from screening import views

urlpatterns = [
    path("", views.screening_overview, name="screening_overview"),
    path("start/", views.screening_start, name="screening_start"),
    path("interview/", views.ScreeningWizard.as_view(), name="screening_wizard"),
    path("v<int:number>/", views.screening_summary, name="screening_summary"),
    path("v<int:number>/review/", views.screening_review, name="screening_review"),
    path("v<int:number>/correct/", views.screening_correct, name="screening_correct"),
]
