from django.urls import path

from casework import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/search/", views.case_search, name="case_search"),
    path("cases/new/", views.case_register, name="case_register"),
    path("cases/<uuid:public_id>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:public_id>/edit/", views.case_edit, name="case_edit"),
    path("cases/<uuid:public_id>/status/", views.case_transition, name="case_transition"),
    path("cases/<uuid:public_id>/consents/new/", views.consent_record, name="consent_record"),
    path(
        "cases/<uuid:public_id>/consents/<int:consent_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("cases/<uuid:public_id>/refer/", views.referral_create, name="referral_create"),
    path("cases/<uuid:public_id>/closure/", views.closure_request, name="closure_request"),
    path(
        "cases/<uuid:public_id>/closure/<int:request_id>/decide/",
        views.closure_decide,
        name="closure_decide",
    ),
    path("referrals/", views.referral_inbox, name="referral_inbox"),
    path("referrals/<int:referral_id>/decide/", views.referral_decide, name="referral_decide"),
    path("audit/", views.audit_log, name="audit_log"),
]
