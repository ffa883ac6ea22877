"""The research database: releases of anonymised records, and extracts made from them.

These tables live in the `research` database alone (see `research.router`). Nothing here
refers to a casework row: users are recorded by id and username, since the two
databases share no relation, and a research record has no path back to a case.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from research import codebook

MIN_K = 5  # the DPO may raise k; never below this


class DisclosurePolicy(models.Model):
    """The disclosure settings in force: the latest row. Rows are never changed."""

    k = models.PositiveSmallIntegerField(default=11)
    threshold = models.PositiveSmallIntegerField(default=10)  # smallest publishable count
    max_suppressed_share = models.FloatField(default=0.05)
    set_by_id = models.BigIntegerField()
    set_by_name = models.CharField(max_length=150)
    set_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-set_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(k__gte=MIN_K), name="policy_k_at_least_min"),
            models.CheckConstraint(condition=Q(threshold__gte=2), name="policy_threshold_min"),
            models.CheckConstraint(
                condition=Q(max_suppressed_share__gte=0, max_suppressed_share__lte=0.5),
                name="policy_suppressed_share_range",
            ),
        ]

    def __str__(self) -> str:
        return f"k={self.k}, threshold={self.threshold}"

    def as_dict(self) -> dict:
        return {
            "k": self.k,
            "threshold": self.threshold,
            "max_suppressed_share": self.max_suppressed_share,
        }


class Release(models.Model):
    """A versioned publication of the research records; immutable once approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft: awaiting approval")
        APPROVED = "approved", _("Approved")

    number = models.PositiveIntegerField(unique=True)
    as_of = models.DateField(_("as of"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    provisional = models.BooleanField(
        _("provisional"),
        default=True,
        help_text=_("Provisional figures may still change as cases are completed."),
    )
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    change_note = models.TextField(_("what changed"), blank=True, default="")
    notes = models.TextField(_("release notes"), blank=True, default="")
    policy = models.JSONField(default=dict)
    persons = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)
    coverage = models.JSONField(default=dict)  # countries, years, completeness of the forms
    checksum = models.CharField(max_length=64, blank=True)
    created_by_id = models.BigIntegerField()
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by_id = models.BigIntegerField(null=True, blank=True)
    approved_by_name = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft", approved_at__isnull=True)
                | Q(
                    status="approved",
                    approved_at__isnull=False,
                    approved_by_id__isnull=False,
                    checksum__regex=r"^[0-9a-f]{64}$",
                ),
                name="release_approval_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Release {self.number} (as of {self.as_of})"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class ResearchRecord(models.Model):
    """One case (an episode) of one research person, in research codes only.

    `person` is random per release: the same person has another identifier in every
    release, so releases cannot be joined on it. The variable columns are added from
    the codebook below.
    """

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="records")
    person = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["release", "person"])]

    def __str__(self) -> str:
        return f"Research record #{self.pk} of release {self.release_id}"


for _variable in codebook.VARIABLES:
    models.SmallIntegerField(_variable.label).contribute_to_class(ResearchRecord, _variable.name)


class ExtractRequest(models.Model):
    """A researcher's request for microdata; downloadable once the DPO approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the DPO's decision")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="extracts")
    variables = models.JSONField()
    filters = models.JSONField(default=dict, blank=True)  # variable -> code
    purpose = models.TextField(_("purpose"))
    k = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by_id = models.BigIntegerField()
    requested_by_name = models.CharField(max_length=150)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by_id = models.BigIntegerField(null=True, blank=True)
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    report = models.JSONField(default=dict, blank=True)  # generalisation and suppression
    data = models.BinaryField(null=True, blank=True, editable=False)  # gzip CSV of codes
    rows = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(k__gte=MIN_K), name="extract_k_at_least_min"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | Q(status="rejected", decided_at__isnull=False, decided_by_id__isnull=False)
                | Q(
                    status="approved",
                    decided_at__isnull=False,
                    decided_by_id__isnull=False,
                    data__isnull=False,
                ),
                name="extract_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Extract request #{self.pk} ({self.status})"
