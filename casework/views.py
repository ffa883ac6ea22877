"""Thin views: parse input, call one service or selector, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from casework import selectors, services
from casework.access import (
    Perm,
    access_case,
    access_incoming_referral,
    case_missions_for,
    has_perm,
    is_dpo,
    mission_ids_with,
    requires,
)
from casework.audit import Action, audit_record
from casework.authentication import LoginRefused, login_attempt, logout_user
from casework.forms import (
    AuditFilterForm,
    CaseEditForm,
    CaseFilterForm,
    CaseRegisterForm,
    CaseTransitionForm,
    ClosureDecisionForm,
    ClosureRequestForm,
    ConsentForm,
    ConsentWithdrawForm,
    IdentifierSearchForm,
    PersonFieldsForm,
    ReferralDecisionForm,
    ReferralForm,
)
from casework.models import CaseStatus, ClosureRequest, Consent, Mission
from casework.panels import case_panels

SEARCH_RESULT_LIMIT = 50


def apply_service_errors(form, error: ValidationError) -> None:
    """Show a service's refusal beside the field it concerns, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    error = None
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        password = request.POST.get("password", "")[:4096]
        try:
            login_attempt(request=request, username=username, password=password)
        except LoginRefused as refused:
            error = str(refused)
        else:
            target = request.POST.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = reverse("home")
            return redirect(target or "home")
    status = 200 if error is None else 400
    return render(
        request,
        "registration/login.html",
        {"error": error, "username": username, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout_user(request)
    messages.info(request, _("You have signed out."))
    return redirect("login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if has_perm(request.user, Perm.CASE_VIEW):
        return redirect("case_list")
    if has_perm(request.user, Perm.RESEARCH_VIEW):
        return redirect("research_portal")
    return render(request, "casework/home.html")


@requires(Perm.CASE_VIEW)
def case_list(request: HttpRequest) -> HttpResponse:
    missions = selectors.missions_visible_to(request.user)
    filters = CaseFilterForm(request.GET or None, missions=missions)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    cases = selectors.case_list(request.user, **criteria)
    page = Paginator(cases, settings.CASE_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    if is_dpo(request.user):
        # The data protection officer reads across all missions: every read is on record.
        audit_record(action=Action.CASE_LIST_VIEWED, actor=request.user, request=request)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "casework/case_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "search": IdentifierSearchForm(),
        },
    )


@requires(Perm.CASE_VIEW)
@require_POST
def case_search(request: HttpRequest) -> HttpResponse:
    form = IdentifierSearchForm(request.POST)
    results, truncated = None, False
    if form.is_valid():
        matches = list(
            selectors.case_search_by_identifiers(
                request.user,
                name=form.cleaned_data["name"],
                date_of_birth=form.cleaned_data["date_of_birth"],
            )[: SEARCH_RESULT_LIMIT + 1]
        )
        truncated = len(matches) > SEARCH_RESULT_LIMIT
        results = matches[:SEARCH_RESULT_LIMIT]
        audit_record(
            action=Action.IDENTIFIER_SEARCH,
            actor=request.user,
            request=request,
            detail={
                "by_name": bool(form.cleaned_data["name"].strip()),
                "by_date_of_birth": bool(form.cleaned_data["date_of_birth"]),
                "results": len(results),
            },
        )
    return render(
        request,
        "casework/case_search.html",
        {"search": form, "results": results, "truncated": truncated},
        status=200 if form.is_valid() else 400,
    )


@requires(Perm.CASE_REGISTER)
@require_http_methods(["GET", "POST"])
def case_register(request: HttpRequest) -> HttpResponse:
    missions = Mission.objects.filter(pk__in=mission_ids_with(request.user, Perm.CASE_REGISTER))
    form = CaseRegisterForm(request.POST or None, missions=missions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_register(
                actor=request.user,
                registering_mission=data["registering_mission"],
                destination_mission=data["destination_mission"],
                source_mission=data["source_mission"],
                country_of_exploitation=data["country_of_exploitation"],
                identified_on=data["identified_on"],
                registered_on=data["registered_on"],
                person=form.person_data(on=data["registered_on"]),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, _("Case %(number)s registered.") % {"number": case.case_number}
            )
            return redirect("case_detail", public_id=case.public_id)
    status = 400 if form.errors else 200
    return render(request, "casework/case_register.html", {"form": form}, status=status)


def _case_context(request: HttpRequest, case) -> dict:
    user = request.user
    can_decide = bool(case_missions_for(user, case, Perm.CASE_DECIDE))
    can_transition = bool(case_missions_for(user, case, Perm.CASE_TRANSITION))
    targets = services.allowed_transitions(case, can_decide=can_decide) if can_transition else []
    closed = case.status == CaseStatus.CLOSED
    return {
        "case": case,
        "person": case.person,
        "timeline": selectors.case_timeline(case),
        "consents": case.consents.select_related("recorded_by", "withdrawn_by"),
        "referrals": selectors.case_referrals(case),
        "panels": case_panels(user, case),
        "can_edit": bool(case_missions_for(user, case, Perm.CASE_EDIT)) and not closed,
        "can_consent": bool(case_missions_for(user, case, Perm.CONSENT_RECORD)),
        "can_refer": bool(case_missions_for(user, case, Perm.REFERRAL_CREATE)) and not closed,
        "transition_form": CaseTransitionForm(targets=targets, initial={"version": case.version})
        if targets
        else None,
    }


@requires(Perm.CASE_VIEW)
def case_detail(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id)
    audit_record(
        action=Action.IDENTIFIERS_VIEWED,
        actor=request.user,
        case=case,
        request=request,
        detail={"as": "dpo"} if is_dpo(request.user) else {},
    )
    return render(request, "casework/case_detail.html", _case_context(request, case))


@requires(Perm.CASE_EDIT)
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_EDIT)
    initial = {
        **PersonFieldsForm.initial_from(case.person, on=case.registered_on),
        "destination_mission": case.destination_mission,
        "source_mission": case.source_mission,
        "country_of_exploitation": str(case.country_of_exploitation or ""),
        "identified_on": case.identified_on,
        "registered_on": case.registered_on,
        "version": case.version,
    }
    form = CaseEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_update(
                actor=request.user,
                case=case,
                expected_version=data["version"],
                person=form.person_data(on=data["registered_on"]),
                destination_mission=data["destination_mission"],
                source_mission=data["source_mission"],
                country_of_exploitation=data["country_of_exploitation"],
                identified_on=data["identified_on"],
                registered_on=data["registered_on"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("case_detail", public_id=case.public_id)
    else:
        audit_record(
            action=Action.IDENTIFIERS_VIEWED, actor=request.user, case=case, request=request
        )
    status = 400 if form.errors else 200
    return render(request, "casework/case_edit.html", {"form": form, "case": case}, status=status)


@requires(Perm.CASE_TRANSITION)
@require_POST
def case_transition(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_TRANSITION)
    can_decide = bool(case_missions_for(request.user, case, Perm.CASE_DECIDE))
    targets = services.allowed_transitions(case, can_decide=can_decide)
    form = CaseTransitionForm(request.POST, targets=targets)
    if form.is_valid():
        try:
            services.case_transition(
                actor=request.user,
                case=case,
                to_status=form.cleaned_data["to_status"],
                expected_version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
                closure_reason=form.cleaned_data["closure_reason"],
            )
        except PermissionDenied:
            raise
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Status changed."))
            return redirect("case_detail", public_id=case.public_id)
    context = _case_context(request, case)
    context["transition_form"] = form
    return render(request, "casework/case_detail.html", context, status=400)


@requires(Perm.CONSENT_RECORD)
@require_http_methods(["GET", "POST"])
def consent_record(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CONSENT_RECORD)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("case_detail", public_id=case.public_id)
    status = 400 if form.errors else 200
    return render(
        request, "casework/consent_form.html", {"form": form, "case": case}, status=status
    )


@requires(Perm.CONSENT_RECORD)
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, public_id, consent_id: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CONSENT_RECORD)
    try:
        consent = case.consents.get(pk=consent_id)
    except Consent.DoesNotExist as missing:
        raise Http404 from missing
    form = ConsentWithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(
                actor=request.user, consent=consent, withdrawn_on=form.cleaned_data["withdrawn_on"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Withdrawal recorded."))
            return redirect("case_detail", public_id=case.public_id)
    status = 400 if form.errors else 200
    return render(
        request,
        "casework/consent_withdraw.html",
        {"form": form, "case": case, "consent": consent},
        status=status,
    )


@requires(Perm.REFERRAL_CREATE)
@require_http_methods(["GET", "POST"])
def referral_create(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.REFERRAL_CREATE)
    form = ReferralForm(request.POST or None)
    form.fields["to_mission"].queryset = Mission.objects.filter(is_active=True).exclude(
        pk__in=[case.registering_mission_id, case.destination_mission_id]
    )
    if case.source_mission_id and request.method == "GET":
        form.initial["to_mission"] = case.source_mission_id
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_create(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Referral sent."))
            return redirect("case_detail", public_id=case.public_id)
    status = 400 if form.errors else 200
    return render(
        request, "casework/referral_form.html", {"form": form, "case": case}, status=status
    )


@requires(Perm.REFERRAL_DECIDE)
def referral_inbox(request: HttpRequest) -> HttpResponse:
    referrals = selectors.incoming_referrals(request.user)
    page = Paginator(referrals, settings.CASE_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "casework/referral_inbox.html",
        {"page": page, "decision_form": ReferralDecisionForm()},
    )


@requires(Perm.REFERRAL_DECIDE)
@require_POST
def referral_decide(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = access_incoming_referral(request.user, referral_id)
    form = ReferralDecisionForm(request.POST)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            services.referral_decide(
                actor=request.user, referral=referral, accept=accept, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if accept:
                messages.success(request, _("Referral accepted: the case is now shared with you."))
                return redirect("case_detail", public_id=referral.case.public_id)
            messages.info(request, _("Referral declined."))
    else:
        messages.error(request, _("Choose to accept or decline the referral."))
    return redirect("referral_inbox")


@requires(Perm.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = AuditFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    events = selectors.audit_events(**criteria)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    audit_record(action=Action.AUDIT_VIEWED, actor=request.user, request=request)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "casework/audit_log.html",
        {"filters": filters, "page": page, "query": query.urlencode()},
    )


@requires(Perm.CASE_TRANSITION)
@require_http_methods(["GET", "POST"])
def closure_request(request: HttpRequest, public_id) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_TRANSITION)
    form = ClosureRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.closure_request(actor=request.user, case=case, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Closure requested; a mission manager approves it."))
            return redirect("case_detail", public_id=case.public_id)
    return render(
        request,
        "_form_page.html",
        {
            "case": case,
            "form": form,
            "title": _("Request the closure of the case"),
            "submit": _("Request closure"),
        },
        status=400 if form.errors else 200,
    )


@requires(Perm.CASE_DECIDE)
@require_POST
def closure_decide(request: HttpRequest, public_id, request_id: int) -> HttpResponse:
    case = access_case(request.user, public_id, Perm.CASE_DECIDE)
    try:
        closure = case.closure_requests.get(pk=request_id)
    except ClosureRequest.DoesNotExist as missing:
        raise Http404 from missing
    form = ClosureDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or reject the request."))
        return redirect("case_detail", public_id=case.public_id)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.closure_decide(
            actor=request.user, request=closure, approve=approve, note=form.cleaned_data["note"]
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, _("Case closed.") if approve else _("Closure request rejected."))
    return redirect("case_detail", public_id=case.public_id)
