"""Writes shared by every interview: saving a draft's state under optimistic locking."""

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.audit import audit_record
from casework.models import User
from interviews.models import InterviewDraft
from interviews.questionnaire import Answers


class DraftConflict(ValidationError):
    def __init__(self):
        super().__init__(
            _(
                "Another caseworker saved this interview while you had it open. Your last "
                "page was not saved; the interview now shows their version."
            ),
            code="stale_draft",
        )


def wizard_state(answers: Answers, step: str = "", *, complete: bool = False) -> str:
    """Wizard state for a draft; a complete one (return, correction) holds every step's data."""
    return json.dumps(
        {
            "step": step or answers.questionnaire.first,
            "step_data": answers.as_step_data() if complete else {},
            "step_files": {},
            "extra_data": {"answers": answers.as_dict()},
        }
    )


def stored_answers(questionnaire, version) -> Answers:
    """The answers of a submitted version."""
    return Answers(
        questionnaire,
        coded=dict(version.coded),
        missing=dict(version.missing),
        private=json.loads(version.private),
    )


@transaction.atomic
def draft_save(
    *,
    actor: User,
    draft: InterviewDraft,
    expected_version: int,
    state: dict,
    step: str,
    action: str,
) -> InterviewDraft:
    """Store the wizard's state after a step; refuse if someone saved in between."""
    saved = (
        type(draft)
        .objects.filter(pk=draft.pk, version=expected_version)
        .update(
            version=expected_version + 1,
            updated_by=actor,
            updated_at=timezone.now(),
            current_step=step,
        )
    )
    if not saved:
        raise DraftConflict()
    draft.state = json.dumps(state)
    draft.version = expected_version + 1
    draft.current_step = step
    draft.save(update_fields=["state"])
    audit_record(
        action=action,
        actor=actor,
        case=draft.case,
        mission=draft.mission_id,
        obj=draft,
        detail={"step": step},
    )
    return draft


def correction_draft_open(
    *, actor: User, version, draft_model, questionnaire, mission_id: int, action: str
) -> InterviewDraft:
    """Open a draft that corrects a submitted version, pre-filled with its answers."""
    case = version.case
    existing = draft_model.objects.filter(case=case).first()
    if existing:
        return existing
    draft = draft_model.objects.create(
        case=case,
        mission_id=mission_id,
        state=wizard_state(stored_answers(questionnaire, version), complete=True),
        corrects=version,
        started_by=actor,
        updated_by=actor,
    )
    audit_record(
        action=action,
        actor=actor,
        case=case,
        mission=mission_id,
        obj=draft,
        detail={"version": version.number},
    )
    return draft
