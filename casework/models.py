"""Missions, staff and their roles, people, cases and everything on a case's timeline."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from encrypted_model_fields.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedTextField,
)


class OrgRole(models.TextChoices):
    """Organisation-wide roles; none of them grants access to a mission's cases."""

    NONE = "", _("none")
    RESEARCHER = "researcher", _("researcher")
    DONOR = "donor", _("donor")
    DPO = "dpo", _("data protection officer")


class MissionRole(models.TextChoices):
    CASEWORKER = "caseworker", _("caseworker")
    MANAGER = "manager", _("mission manager")


class User(AbstractUser):
    org_role = models.CharField(
        _("organisation role"), max_length=20, choices=OrgRole.choices, blank=True
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(org_role__in=[c.value for c in OrgRole]), name="user_org_role_valid"
            )
        ]


class Mission(models.Model):
    """A country office of the organisation."""

    code = models.CharField(
        _("code"), max_length=8, unique=True, help_text=_("Short upper-case code, e.g. UA-KYV.")
    )
    name = models.CharField(_("name"), max_length=120)
    country = CountryField(_("country"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z][A-Z0-9-]{1,7}$"), name="mission_code_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=MissionRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "mission"], name="membership_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[c.value for c in MissionRole]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.mission.code} · {self.get_role_display()}"


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    TRANSGENDER = "transgender", _("Transgender/non-conforming")
    UNKNOWN = "unknown", _("Unknown")


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    NATIONAL_ID = "national_id", _("National identity card")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
    TRAVEL_DOCUMENT = "travel_document", _("Travel document")
    OTHER = "other", _("Other")


class Person(models.Model):
    """A person assisted. Direct identifiers are encrypted; equality search uses blind indexes."""

    given_names = EncryptedCharField(_("given names"), max_length=150)
    family_names = EncryptedCharField(_("family names"), max_length=150)
    other_names = EncryptedCharField(
        _("other names and aliases"), max_length=300, blank=True, default=""
    )
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    place_of_birth = EncryptedCharField(_("place of birth"), max_length=150, blank=True, default="")
    document_type = EncryptedCharField(
        _("identity document type"),
        max_length=30,
        choices=DocumentType.choices,
        blank=True,
        default="",
    )
    document_number = EncryptedCharField(
        _("identity document number"), max_length=60, blank=True, default=""
    )
    phone = EncryptedCharField(_("phone"), max_length=40, blank=True, default="")
    address = EncryptedCharField(_("address"), max_length=300, blank=True, default="")
    notes = EncryptedTextField(_("notes"), max_length=5000, blank=True, default="")

    # Not identifying on their own: kept in clear so they can be counted and filtered.
    sex = models.CharField(_("sex/gender"), max_length=20, choices=Sex.choices)
    citizenship = CountryField(_("citizenship"), blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    birth_year_estimated = models.BooleanField(_("birth year estimated"), default=False)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, blank=True, default=""
    )

    name_index = models.CharField(max_length=64, db_index=True, editable=False)
    family_name_index = models.CharField(max_length=64, db_index=True, editable=False)
    date_of_birth_index = models.CharField(max_length=64, db_index=True, editable=False)

    registered_by = models.ForeignKey(
        Mission, on_delete=models.PROTECT, related_name="registered_people"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True)
                | Q(birth_year__gte=1900, birth_year__lte=2100),
                name="person_birth_year_range",
            ),
            models.CheckConstraint(
                condition=Q(sex__in=[c.value for c in Sex]), name="person_sex_valid"
            ),
        ]

    def __str__(self) -> str:
        # Never the name: this string ends up in admin pages, logs and error reports.
        return f"Person #{self.pk}"


class CaseStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    UNDER_SCREENING = "under_screening", _("Under screening")
    ELIGIBLE = "eligible", _("Eligible")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    ASSISTANCE = "assistance", _("Assistance")
    RETURN_IN_PROGRESS = "return_in_progress", _("Return in progress")
    RETURNED = "returned", _("Returned")
    REINTEGRATION = "reintegration", _("Reintegration")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    REINTEGRATION_COMPLETED = "reintegration_completed", _("Reintegration completed")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    DECLINED_ASSISTANCE = "declined_assistance", _("Declined further assistance")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible for assistance")
    RE_TRAFFICKED = "re_trafficked", _("Re-trafficked")
    MOVED_AWAY = "moved_away", _("Moved to another country")
    DECEASED = "deceased", _("Deceased")
    OTHER = "other", _("Other")


class Case(models.Model):
    """One trafficking episode of one person, shared by its destination and source missions."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case_number = models.CharField(_("case number"), max_length=24, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    registering_mission = models.ForeignKey(
        Mission, on_delete=models.PROTECT, related_name="registered_cases"
    )
    destination_mission = models.ForeignKey(
        Mission,
        on_delete=models.PROTECT,
        related_name="destination_cases",
        verbose_name=_("destination mission"),
    )
    source_mission = models.ForeignKey(
        Mission,
        on_delete=models.PROTECT,
        related_name="source_cases",
        null=True,
        blank=True,
        verbose_name=_("source mission"),
    )
    country_of_exploitation = CountryField(_("country of exploitation"), blank=True)
    identified_on = models.DateField(_("identified on"))
    registered_on = models.DateField(_("registered on"))
    status = models.CharField(
        _("status"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.REGISTERED
    )
    closure_reason = models.CharField(
        _("closure reason"), max_length=30, choices=ClosureReason.choices, blank=True
    )
    # The case's number in the mission's earlier records (spreadsheet, older database): what
    # a re-import is keyed on, so that bringing the same file in twice creates nothing new.
    legacy_reference = models.CharField(
        _("legacy reference"), max_length=60, blank=True, default=""
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    # Set when review found this registration to be the same episode as another case: the
    # record is kept whole (unmerging clears this), but counts and lists use the other.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="absorbed"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-registered_on", "-id"]
        indexes = [
            models.Index(fields=["registering_mission", "-registered_on", "-id"]),
            models.Index(fields=["destination_mission", "-registered_on", "-id"]),
            models.Index(fields=["status", "-registered_on", "-id"]),
            models.Index(fields=["-registered_on", "-id"], name="case_list_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[c.value for c in CaseStatus]), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status=CaseStatus.CLOSED) & ~Q(closure_reason=""))
                | (~Q(status=CaseStatus.CLOSED) & Q(closure_reason="")),
                name="case_closure_reason_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(identified_on__lte=models.F("registered_on")),
                name="case_identified_before_registered",
            ),
            models.CheckConstraint(
                condition=~Q(source_mission=models.F("destination_mission")),
                name="case_source_differs_from_destination",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("pk")), name="case_not_merged_into_itself"
            ),
            models.UniqueConstraint(
                fields=["registering_mission", "legacy_reference"],
                condition=~Q(legacy_reference=""),
                name="case_legacy_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.case_number


class CaseNumberSequence(models.Model):
    """Next case number per mission and year; rows are locked while a number is taken."""

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mission", "year"], name="case_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.mission_id}/{self.year}: {self.last_value}"


class CaseEvent(models.Model):
    """One entry on a case's timeline."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        UPDATED = "updated", _("Details changed")
        STATUS_CHANGED = "status_changed", _("Status changed")
        CONSENT_RECORDED = "consent_recorded", _("Consent recorded")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
        REFERRED = "referred", _("Referred")
        REFERRAL_ACCEPTED = "referral_accepted", _("Referral accepted")
        REFERRAL_DECLINED = "referral_declined", _("Referral declined")
        SCREENING_SUBMITTED = "screening_submitted", _("Screening submitted")
        SCREENING_CONFIRMED = "screening_confirmed", _("Screening determination confirmed")
        SCREENING_RETURNED = "screening_returned", _("Screening returned for changes")
        SCREENING_CORRECTED = "screening_corrected", _("Screening correction submitted")
        ASSISTANCE_SUBMITTED = "assistance_submitted", _("Assistance interview submitted")
        SERVICE_RECORDED = "service_recorded", _("Service recorded")
        SERVICE_UPDATED = "service_updated", _("Service updated")
        RETURN_PLANNED = "return_planned", _("Return planned")
        RETURN_CANCELLED = "return_cancelled", _("Return cancelled")
        ARRIVAL_CONFIRMED = "arrival_confirmed", _("Arrival confirmed")
        REINTEGRATION_PLANNED = "reintegration_planned", _("Reintegration plan made")
        FOLLOW_UP_RECORDED = "follow_up_recorded", _("Follow-up visit recorded")
        FOLLOW_UP_MISSED = "follow_up_missed", _("Follow-up visit missed")
        CLOSURE_REQUESTED = "closure_requested", _("Closure requested")
        CLOSURE_REJECTED = "closure_rejected", _("Closure request rejected")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_status = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    # Notes are free text written about a person, so they are encrypted like identifiers.
    note = EncryptedTextField(max_length=2000, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d})"


class ConsentPurpose(models.TextChoices):
    ASSISTANCE = "assistance", _("Assistance and processing of personal data")
    SHARING = "sharing", _("Sharing with another mission")
    RESEARCH = "research", _("Use in anonymised research")


class Consent(models.Model):
    """A person's decision on one purpose for one case; withdrawal is recorded, never erased."""

    class Decision(models.TextChoices):
        GIVEN = "given", _("Given")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    decided_on = models.DateField(_("date of decision"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=[c.value for c in ConsentPurpose]),
                name="consent_purpose_valid",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["given", "refused"]), name="consent_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True)
                | (Q(decision="given") & Q(withdrawn_on__gte=models.F("decided_on"))),
                name="consent_withdrawal_after_given",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True, withdrawn_by__isnull=True)
                | Q(withdrawn_on__isnull=False, withdrawn_by__isnull=False),
                name="consent_withdrawal_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.get_decision_display()}"

    @property
    def is_in_force(self) -> bool:
        return self.decision == self.Decision.GIVEN and self.withdrawn_on is None


class Referral(models.Model):
    """A request from one mission to another to take part in a case."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    from_mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="+")
    to_mission = models.ForeignKey(
        Mission, on_delete=models.PROTECT, related_name="incoming_referrals"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    note = EncryptedTextField(_("note"), max_length=2000, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(max_length=2000, blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["to_mission", "status"]),
            # The access policy asks, for each case, whether a mission accepted it.
            models.Index(fields=["case", "status", "to_mission"], name="referral_case_access"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_mission=models.F("to_mission")), name="referral_not_to_self"
            ),
            models.UniqueConstraint(
                fields=["case", "to_mission"],
                condition=Q(status__in=["pending", "accepted"]),
                name="referral_one_open_per_mission",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, decided_by__isnull=True)
                | (
                    Q(status__in=["accepted", "declined"])
                    & Q(decided_at__isnull=False, decided_by__isnull=False)
                ),
                name="referral_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral #{self.pk} ({self.status})"


class ClosureRequest(models.Model):
    """A caseworker's request to close a case; a mission manager approves or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="closure_requests")
    reason = models.CharField(_("closure reason"), max_length=30, choices=ClosureReason.choices)
    note = EncryptedTextField(_("note"), max_length=2000, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="closure_one_pending_per_case"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True)
                | Q(status__in=["approved", "rejected"], decided_by__isnull=False),
                name="closure_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Closure request #{self.pk} ({self.status})"


class AuditEvent(models.Model):
    """Append-only record of who did what. Holds no personal data of the people assisted.

    Database triggers (see the migrations) refuse UPDATE and DELETE on this table.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=40, db_index=True)
    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, null=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, related_name="+")
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    # For events without a known actor (failed logins): a keyed digest of the username.
    subject_key = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M:%S}"
