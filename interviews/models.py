"""Abstract models shared by every interview: the resumable draft and the submitted version."""

from django.conf import settings
from django.db import models
from encrypted_model_fields.fields import EncryptedTextField

from casework.models import Mission


class InterviewDraft(models.Model):
    """The interview in progress for a case: one at a time, resumable by its mission.

    The whole wizard state, answers included, is encrypted: drafts hold free text and
    identifying answers that have not been sorted into their stores yet.
    """

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")
    state = EncryptedTextField(default="{}")
    current_step = models.CharField(max_length=30, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} of case #{self.case_id}"


class InterviewVersion(models.Model):
    """A submitted interview. Never changed: a correction is a new version."""

    number = models.PositiveSmallIntegerField()
    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")
    coded = models.JSONField(default=dict)  # coded answers: countable, no identifier
    missing = models.JSONField(default=dict)  # question -> unknown / declined / not_applicable
    private = EncryptedTextField(default="{}")  # identifying and free-text answers (JSON)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    correction_reason = EncryptedTextField(blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} v{self.number} of case #{self.case_id}"
