"""Every write of the screening workflow: start, submit, review, correct."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.access import Perm, case_missions_for
from casework.audit import Action, audit_record
from casework.models import Case, CaseEvent, CaseStatus, ConsentPurpose, User
from casework.services import acting_mission, case_transition, consent_in_force, consent_record
from interviews.questionnaire import Answers
from interviews.services import (
    DraftConflict,
    correction_draft_open,
    stored_answers,
    wizard_state,
)
from screening.models import ScreeningDraft, ScreeningVersion
from screening.questionnaire import QUESTIONNAIRE, answers
from screening.rules import assess

SCREENABLE = {CaseStatus.REGISTERED, CaseStatus.UNDER_SCREENING}


def latest_version(case: Case) -> ScreeningVersion | None:
    return case.screenings.order_by("-number").first()


def current_version(case: Case) -> ScreeningVersion | None:
    """The version awaiting confirmation or confirmed, if any."""
    return case.screenings.filter(status__in=["submitted", "confirmed"]).first()


def _mission_for(actor: User, case: Case) -> int:
    mission = acting_mission(actor, case, Perm.SCREENING_EDIT)
    if mission is None:
        raise PermissionDenied
    return mission


def _prefill(case: Case) -> Answers:
    """What the casework record already knows, so that nothing is asked twice."""
    person = case.person
    prefilled = answers()
    if person.sex in ("female", "male", "transgender"):
        prefilled.set("sex", person.sex)
    prefilled.set("citizenship", str(person.citizenship or ""))
    prefilled.set("date_of_birth", person.date_of_birth)
    prefilled.set("interview_language", person.preferred_language)
    if case.country_of_exploitation:
        prefilled.set("exploitation_countries", [str(case.country_of_exploitation)])
    return prefilled


@transaction.atomic
def screening_start(*, actor: User, case: Case) -> ScreeningDraft:
    """Open the interview for a case (or return the draft in progress)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    existing = ScreeningDraft.objects.filter(case=case).first()
    if existing:
        return existing
    if case.status not in SCREENABLE:
        raise ValidationError(
            _(
                "A case can only be screened while it is registered or under screening; "
                "this one is “%(status)s”."
            )
            % {"status": case.get_status_display()}
        )
    if current_version(case):
        raise ValidationError(
            _("This case already has a submitted screening form; correct it instead.")
        )
    mission = _mission_for(actor, case)
    if case.status == CaseStatus.REGISTERED:
        case = case_transition(
            actor=actor,
            case=case,
            to_status=CaseStatus.UNDER_SCREENING,
            expected_version=case.version,
            note=_("Screening interview started."),
        )
    draft = ScreeningDraft.objects.create(
        case=case,
        mission_id=mission,
        state=wizard_state(_prefill(case)),
        started_by=actor,
        updated_by=actor,
    )
    audit_record(
        action=Action.SCREENING_STARTED, actor=actor, case=case, mission=mission, obj=draft
    )
    return draft


def record_interview_consent(*, actor: User, case: Case, decided_on) -> None:
    """Record consent to assistance and data processing on the case, unless in force already."""
    if not consent_in_force(case, ConsentPurpose.ASSISTANCE):
        consent_record(
            actor=actor,
            case=case,
            purpose=ConsentPurpose.ASSISTANCE,
            decision="given",
            decided_on=decided_on,
        )


@transaction.atomic
def screening_submit(
    *,
    actor: User,
    draft: ScreeningDraft,
    expected_version: int,
    answers: Answers,
    correction_reason: str = "",
) -> ScreeningVersion:
    """Lock the interview as a new version; a correction supersedes the one it corrects."""
    draft = ScreeningDraft.objects.select_for_update().get(pk=draft.pk)
    if draft.version != expected_version:
        raise DraftConflict()
    case = draft.case
    previous = latest_version(case)
    if draft.corrects_id and not correction_reason.strip():
        raise ValidationError({"correction_reason": _("Say why the form is being corrected.")})
    assessment = assess(answers.merged_values(), answers.states())
    supersedes = None
    if draft.corrects_id:
        supersedes = ScreeningVersion.objects.select_for_update().get(pk=draft.corrects_id)
        if supersedes.status in ("submitted", "confirmed"):
            supersedes.status = ScreeningVersion.Status.SUPERSEDED
            supersedes.save(update_fields=["status"])
    elif previous is not None:
        supersedes = previous
    version = ScreeningVersion.objects.create(
        case=case,
        number=(previous.number + 1) if previous else 1,
        mission_id=draft.mission_id,
        coded=answers.coded,
        missing=answers.missing,
        private=json.dumps(answers.private, ensure_ascii=False),
        elements=assessment.as_dict(),
        suggestion=assessment.suggestion,
        determination=answers.coded["determination"],
        interviewer=actor,
        supersedes=supersedes,
        correction_reason=correction_reason,
    )
    draft.delete()
    kind = (
        CaseEvent.Kind.SCREENING_CORRECTED
        if draft.corrects_id
        else CaseEvent.Kind.SCREENING_SUBMITTED
    )
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=version.mission_id,
        kind=kind,
        note=version.get_determination_display(),
    )
    audit_record(
        action=Action.SCREENING_SUBMITTED,
        actor=actor,
        case=case,
        mission=version.mission_id,
        obj=version,
        detail={
            "version": version.number,
            "determination": version.determination,
            "suggestion": version.suggestion,
            "correction": bool(draft.corrects_id),
        },
    )
    return version


OUTCOME = {"victim": CaseStatus.ELIGIBLE, "not_victim": CaseStatus.NOT_ELIGIBLE}


@transaction.atomic
def screening_review(
    *, actor: User, version: ScreeningVersion, confirm: bool, comment: str = ""
) -> ScreeningVersion:
    """A manager confirms the determination (moving the case) or returns the form."""
    version = ScreeningVersion.objects.select_for_update().select_related("case").get(pk=version.pk)
    case = version.case
    if not case_missions_for(actor, case, Perm.SCREENING_REVIEW):
        raise PermissionDenied
    if version.status != ScreeningVersion.Status.SUBMITTED:
        raise ValidationError(_("This form is not awaiting confirmation."))
    if confirm and version.interviewer_id == actor.pk:
        # Four eyes: the person who conducted the interview does not confirm its outcome.
        raise ValidationError(
            _("The determination is confirmed by a manager other than the interviewer.")
        )
    if confirm:
        target = OUTCOME.get(version.determination)
        if target is None:
            raise ValidationError(
                _(
                    "An inconclusive determination cannot be confirmed; "
                    "return the form with a comment."
                )
            )
        if case.status == CaseStatus.UNDER_SCREENING:
            case_transition(
                actor=actor,
                case=case,
                to_status=target,
                expected_version=case.version,
                note=_("Screening determination confirmed."),
            )
        elif case.status != target:
            raise ValidationError(
                _(
                    "The case is already “%(status)s”; a correction cannot change the "
                    "determination after it was confirmed."
                )
                % {"status": case.get_status_display()}
            )
    version.status = (
        ScreeningVersion.Status.CONFIRMED if confirm else ScreeningVersion.Status.RETURNED
    )
    version.reviewed_by = actor
    version.reviewed_at = timezone.now()
    version.review_comment = comment
    version.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    mission = acting_mission(actor, case, Perm.SCREENING_REVIEW)
    if not confirm:
        ScreeningDraft.objects.create(
            case=case,
            mission_id=version.mission_id,
            state=wizard_state(stored_answers(QUESTIONNAIRE, version), "assessment", complete=True),
            current_step="assessment",
            returned_with=comment,
            started_by=actor,
            updated_by=actor,
        )
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        mission_id=mission,
        kind=CaseEvent.Kind.SCREENING_CONFIRMED if confirm else CaseEvent.Kind.SCREENING_RETURNED,
        note=comment,
    )
    audit_record(
        action=Action.SCREENING_CONFIRMED if confirm else Action.SCREENING_RETURNED,
        actor=actor,
        case=case,
        mission=mission,
        obj=version,
        detail={"version": version.number, "determination": version.determination},
    )
    return version


@transaction.atomic
def screening_correct(*, actor: User, version: ScreeningVersion) -> ScreeningDraft:
    """Open a correction of a submitted or confirmed form, pre-filled with its answers."""
    version = ScreeningVersion.objects.select_for_update().select_related("case").get(pk=version.pk)
    case = version.case
    if version.status not in (ScreeningVersion.Status.SUBMITTED, ScreeningVersion.Status.CONFIRMED):
        raise ValidationError(_("Only the current form can be corrected."))
    return correction_draft_open(
        actor=actor,
        version=version,
        draft_model=ScreeningDraft,
        questionnaire=QUESTIONNAIRE,
        mission_id=_mission_for(actor, case),
        action=Action.SCREENING_CORRECTION_STARTED,
    )
