from django.urls import path

from dedupe import views

urlpatterns = [
    path("dedupe/", views.review_queue, name="dedupe_queue"),
    path("dedupe/<int:candidate_id>/", views.pair_detail, name="dedupe_pair"),
    path("dedupe/<int:candidate_id>/decide/", views.pair_decide, name="dedupe_decide"),
]
