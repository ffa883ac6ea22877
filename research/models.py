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


class PublishedTable(models.Model):
    """A protected table as published from a release; never changed once written.

    It keeps the true counts and which cells were withheld and why (primary or secondary),
    for the DPO's view, the audit and the protection of later tables and releases; what
    anyone else sees is `public_cells`, where a withheld cell has no count and no reason.
    """

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="tables")
    key = models.CharField(max_length=64)  # digest of the definition: same table, same key
    definition = models.JSONField()  # rows, cols, where, unit, method, threshold, hierarchy
    dimensions = models.JSONField()  # [{name, labels, parent}], labels in pre-order
    counts = models.JSONField()  # true counts, flat, C order over the dimensions
    status = models.JSONField()  # per cell: 0 published, 1 primary, 2 secondary
    published = models.JSONField()  # the values shown (rounded under the rounding method)
    audit = models.JSONField(default=dict)  # intervals of withheld cells, pass, solver facts
    passed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["release", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "key"], name="published_table_once"),
            models.CheckConstraint(condition=Q(passed=True), name="published_table_audited"),
        ]

    def __str__(self) -> str:
        return f"Table {self.key[:8]} of release {self.release_id}"


class Programme(models.Model):
    """A donor's programme: the countries of identification whose cases it covers.

    A donor report may be scoped to a programme; its tables then count the cases
    identified in these countries (ISO 3166-1 alpha-2 codes of the codebook's list).
    """

    # short enough for the report's scope label: "Programme: <name> (<donor>)"
    name = models.CharField(_("name"), max_length=100, unique=True)
    donor = models.CharField(_("donor"), max_length=80, blank=True, default="")
    countries = models.JSONField(_("countries of identification"))  # sorted alpha-2 codes
    created_by_id = models.BigIntegerField()
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(name__regex=r"\S"), name="programme_name_not_blank"),
            # a JSON array with a first element: not empty, not an object or a scalar
            models.CheckConstraint(
                condition=Q(countries__0__isnull=False), name="programme_countries_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.donor})" if self.donor else self.name

    @property
    def scope_label(self) -> str:
        return f"Programme: {self}"


class Report(models.Model):
    """A donor report: tables (and their charts) over a period, approved by the DPO."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200)
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="reports")
    year_from = models.PositiveSmallIntegerField(_("from year"))
    year_to = models.PositiveSmallIntegerField(_("to year"))
    # a filter: {"region": 150}, or {"programme": id, "countries": [alpha-2, ...]}
    scope = models.JSONField(default=dict, blank=True)
    scope_label = models.CharField(_("scope"), max_length=200, default="Whole organisation")
    definitions = models.JSONField()  # the tables, in order
    introduction = models.TextField(_("introduction"), blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    tables = models.ManyToManyField(PublishedTable, blank=True, related_name="reports")
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    published_by_id = models.BigIntegerField(null=True, blank=True)
    published_by_name = models.CharField(max_length=150, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year_from__lte=models.F("year_to")), name="report_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status="draft", published_at__isnull=True)
                | Q(status="published", published_at__isnull=False, published_by_id__isnull=False),
                name="report_publication_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.title
