"""Assistance interviews, services delivered, return between missions, reintegration."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedTextField

from assistance import vocabularies as v
from casework.models import Case, Mission
from interviews.models import InterviewDraft, InterviewVersion


def _codes(choices) -> list[str]:
    return [code for code, _label in choices]


class AssistanceDraft(InterviewDraft):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="assistance_draft")
    corrects = models.ForeignKey(
        "AssistanceVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )


class AssistanceVersion(InterviewVersion):
    """A submitted Assistance Interview Form; corrections are new versions."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assistance_interviews")
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    # Answers that differ from what the screening form recorded: {question: {from, to}}.
    screening_corrections = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="assistance_version_unique"),
            models.CheckConstraint(
                condition=Q(number=1, supersedes__isnull=True)
                | Q(number__gt=1, supersedes__isnull=False),
                name="assistance_correction_links_previous",
            ),
        ]


class ServiceRecord(models.Model):
    """One service planned or delivered to the person of a case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="services")
    service_type = models.CharField(_("type"), max_length=30, choices=v.SERVICE_TYPE)
    provider_mission = models.ForeignKey(
        Mission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("provided by the mission"),
    )
    partner_name = models.CharField(_("partner organisation"), max_length=150, blank=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=v.SERVICE_STATUS)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["status", "end_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(service_type__in=_codes(v.SERVICE_TYPE)), name="service_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=_codes(v.SERVICE_STATUS)), name="service_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="service_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True)
                | (Q(cost__gte=0) & Q(currency__regex=r"^[A-Z]{3}$")),
                name="service_cost_with_currency",
            ),
            models.CheckConstraint(
                condition=(Q(provider_mission__isnull=False) & Q(partner_name=""))
                | (Q(provider_mission__isnull=True) & ~Q(partner_name="")),
                name="service_one_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} ({self.get_status_display()})"


class ReturnMovement(models.Model):
    """The return of the person from the destination mission to the source mission."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ARRIVED = "arrived", _("Arrival confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="returns")
    from_mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")
    to_mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    travel_document = models.CharField(
        _("travel document"), max_length=20, choices=v.TRAVEL_DOCUMENT
    )
    departure_date = models.DateField(_("departure date"))
    route = models.JSONField(_("route"), default=list, blank=True)
    escort = models.CharField(_("escort"), max_length=10, choices=v.ESCORT)
    reception_arranged = models.BooleanField(_("reception by the source mission arranged"))
    reception_notes = EncryptedTextField(_("reception notes"), blank=True, default="")
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    planned_at = models.DateTimeField(auto_now_add=True)
    arrival_date = models.DateField(_("arrival date"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-departure_date", "-id"]
        indexes = [
            models.Index(fields=["from_mission", "status"]),
            models.Index(fields=["to_mission", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_mission=F("to_mission")), name="return_between_missions"
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="planned"), name="return_one_planned_per_case"
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["planned", "cancelled"],
                    arrival_date__isnull=True,
                    confirmed_by__isnull=True,
                )
                | Q(
                    status="arrived",
                    arrival_date__gte=F("departure_date"),
                    confirmed_by__isnull=False,
                ),
                name="return_arrival_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Return #{self.pk} ({self.status})"


class ReintegrationPlan(models.Model):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="reintegration_plan")
    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")
    return_date = models.DateField(_("date of return"))
    economic_goals = EncryptedTextField(_("economic goals"), blank=True, default="")
    social_goals = EncryptedTextField(_("social goals"), blank=True, default="")
    psychosocial_goals = EncryptedTextField(_("psychosocial goals"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Reintegration plan of case #{self.case_id}"


class FollowUpVisit(models.Model):
    """A scheduled follow-up visit; once made, it records the situation and three scores."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled: case closed")

    plan = models.ForeignKey(ReintegrationPlan, on_delete=models.PROTECT, related_name="visits")
    due_on = models.DateField(_("due on"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    situation = EncryptedTextField(_("situation"), blank=True, default="")
    score_economic = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    score_social = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    score_psychosocial = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["scheduled", "missed", "cancelled"],
                    visited_on__isnull=True,
                    score_economic__isnull=True,
                )
                | Q(
                    status="done",
                    visited_on__isnull=False,
                    score_economic__isnull=False,
                    score_social__isnull=False,
                    score_psychosocial__isnull=False,
                ),
                name="visit_done_has_scores",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"score_{d}__isnull": True})
                    | Q(**{f"score_{d}__gte": 0, f"score_{d}__lte": 1}),
                    name=f"visit_score_{d}_range",
                )
                for d in ("economic", "social", "psychosocial")
            ],
        ]

    def __str__(self) -> str:
        return f"Follow-up due {self.due_on} ({self.status})"
