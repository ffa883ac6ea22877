"""Reads of the screening workflow shared by the case page and the screening pages."""

from casework.access import Perm, case_missions_for
from casework.models import Case, User
from interviews import display
from interviews.services import stored_answers
from screening.models import ScreeningDraft, ScreeningVersion
from screening.questionnaire import QUESTIONNAIRE
from screening.services import SCREENABLE


def screening_panel(user: User, case: Case) -> dict:
    """What the case page and the screening overview show about the case's screening."""
    draft = ScreeningDraft.objects.filter(case=case).select_related("updated_by").first()
    versions = list(
        case.screenings.select_related("interviewer", "reviewed_by").order_by("-number")
    )
    current = next((v for v in versions if v.status in ("submitted", "confirmed")), None)
    can_edit = bool(case_missions_for(user, case, Perm.SCREENING_EDIT))
    return {
        "screening_draft": draft,
        "screening_versions": versions,
        "screening_current": current,
        "can_screen": can_edit,
        "can_start_screening": can_edit
        and draft is None
        and current is None
        and case.status in SCREENABLE,
        "can_review_screening": bool(case_missions_for(user, case, Perm.SCREENING_REVIEW)),
    }


def summary_rows(version: ScreeningVersion):
    """Sections with (question, shown answer, state) for the printable summary."""
    return display.summary_rows(stored_answers(QUESTIONNAIRE, version))
