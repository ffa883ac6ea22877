"""Screening interviews: the draft being filled in, and the submitted versions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedTextField

from casework.models import Case
from interviews.models import InterviewDraft, InterviewVersion
from screening.vocabularies import DETERMINATION

DETERMINATION_CODES = [code for code, _label in DETERMINATION]


class ScreeningDraft(InterviewDraft):
    """The screening interview in progress for a case (or a correction of a submitted one)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="screening_draft")
    corrects = models.ForeignKey(
        "ScreeningVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_with = EncryptedTextField(blank=True, default="")


class ScreeningVersion(InterviewVersion):
    """A submitted Screening Interview Form. Never changed: a correction is a new version."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting the manager's confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        RETURNED = "returned", _("Returned for changes")
        SUPERSEDED = "superseded", _("Superseded by a correction")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="screenings")
    elements = models.JSONField(default=dict)  # act / means / purpose / minor / suggestion
    suggestion = models.CharField(max_length=20, choices=DETERMINATION)
    determination = models.CharField(max_length=20, choices=DETERMINATION)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["case", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="screening_version_unique"),
            models.CheckConstraint(
                condition=Q(determination__in=DETERMINATION_CODES)
                & Q(suggestion__in=DETERMINATION_CODES),
                name="screening_determination_valid",
            ),
            models.CheckConstraint(
                condition=Q(number=1, supersedes__isnull=True)
                | Q(number__gt=1, supersedes__isnull=False),
                name="screening_correction_links_previous",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "superseded"])
                | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="screening_review_complete",
            ),
            # At most one version of a case awaits confirmation or stands confirmed.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["submitted", "confirmed"]),
                name="screening_one_current_version",
            ),
        ]
