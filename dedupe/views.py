"""The review queue: likely duplicates, why the model thinks so, and the decision."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework.access import Perm, requires
from casework.audit import Action, audit_record
from dedupe import selectors, services
from dedupe.models import Decision, MatchCandidate


def _candidate(user, candidate_id: int) -> MatchCandidate:
    try:
        return (
            MatchCandidate.objects.filter(services.reviewable(user))
            .select_related("person_a__registered_by", "person_b__registered_by", "decided_by")
            .get(pk=candidate_id)
        )
    except (MatchCandidate.DoesNotExist, ValueError, TypeError) as missing:
        raise Http404 from missing


@requires(Perm.DEDUPE_REVIEW)
def review_queue(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", Decision.PENDING)
    if show not in Decision.values:
        show = Decision.PENDING
    page = Paginator(selectors.review_queue(request.user, show), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "dedupe/queue.html",
        {
            "page": page,
            "show": show,
            "decisions": Decision.choices,
            "strong": services.STRONG_THRESHOLD,
        },
    )


@requires(Perm.DEDUPE_REVIEW)
def pair_detail(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = _candidate(request.user, candidate_id)
    identifiers = services.may_see_identifiers(request.user, candidate)
    if identifiers:
        audit_record(
            action=Action.IDENTIFIERS_VIEWED,
            actor=request.user,
            obj=candidate,
            request=request,
            detail={"via": "dedupe"},
        )
    people = []
    for person in (candidate.person_a, candidate.person_b):
        people.append(
            {
                "person": person,
                "cases": list(
                    person.cases.select_related("registering_mission").values(
                        "case_number", "status", "registered_on", "registering_mission__code"
                    )
                )
                if identifiers
                else None,
            }
        )
    return render(
        request,
        "dedupe/pair.html",
        {
            "candidate": candidate,
            "rows": selectors.explanation_rows(candidate),
            "identifiers": identifiers,
            "people": people,
            "decisions": [
                (code, label) for code, label in Decision.choices if code != Decision.PENDING
            ],
        },
    )


@requires(Perm.DEDUPE_REVIEW)
@require_POST
def pair_decide(request: HttpRequest, candidate_id: int) -> HttpResponse:
    candidate = _candidate(request.user, candidate_id)
    try:
        if request.POST.get("undo"):
            services.match_undo(actor=request.user, candidate=candidate)
            messages.success(request, _("Decision undone; the pair is back in the queue."))
        else:
            services.match_decide(
                actor=request.user, candidate=candidate, decision=request.POST.get("decision", "")
            )
            messages.success(request, _("Decision recorded."))
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    return redirect("dedupe_pair", candidate_id=candidate.pk)
