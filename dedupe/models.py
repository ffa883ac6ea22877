"""Who is who: blocking keys (blind), scored candidate pairs, decisions, person clusters."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from casework.models import Case, Person


class MatchKey(models.Model):
    """A blocking key of a person, stored only as a keyed digest (never the names in clear)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="match_keys")
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "digest"], name="match_key_unique")
        ]

    def __str__(self) -> str:
        return f"key of person #{self.person_id}"


class LinkageModel(models.Model):
    """The fitted Fellegi–Sunter parameters; the latest row is used for new registrations."""

    parameters = models.JSONField()
    # Name frequencies keyed by a digest of "citizenship|name": no name in clear.
    name_frequency = models.JSONField(default=dict)
    people = models.PositiveIntegerField()
    pairs = models.PositiveIntegerField()
    fitted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"linkage model of {self.fitted_at:%Y-%m-%d}"


class Decision(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    SAME_CASE = "same_case", _("Same person, same case")
    NEW_CASE = "new_case", _("Same person, new case (re-trafficked)")
    DIFFERENT = "different", _("Different people")


class MatchCandidate(models.Model):
    """Two person records that may be the same person, with why the model thinks so."""

    person_a = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    probability = models.FloatField()
    # Per compared field: its level and its contribution to the match weight, in bits.
    explanation = models.JSONField(default=dict)
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    merged_case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-probability", "id"]
        indexes = [models.Index(fields=["decision", "-probability"])]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="match_pair_unique"),
            models.CheckConstraint(
                condition=Q(person_a__lt=F("person_b")), name="match_pair_ordered"
            ),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=1),
                name="match_probability_range",
            ),
            models.CheckConstraint(
                condition=Q(decision="pending", decided_by__isnull=True)
                | (~Q(decision="pending") & Q(decided_by__isnull=False)),
                name="match_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"candidate #{self.pk} ({self.probability:.2f})"


class PersonCluster(models.Model):
    """The person a record belongs to: records decided to be one person share a cluster."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, primary_key=True, related_name="cluster"
    )
    cluster = models.PositiveBigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"person #{self.person_id} in cluster {self.cluster}"
