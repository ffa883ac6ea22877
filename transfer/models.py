"""The parsed rows of an uploaded file, kept encrypted between preview and confirmation."""

import uuid

from django.conf import settings
from django.db import models
from encrypted_model_fields.fields import EncryptedTextField

from casework.models import Mission


class ImportPreview(models.Model):
    """A previewed import awaiting confirmation; deleted on confirm, on cancel, or when stale.

    The uploaded file itself is never stored: only its rows, parsed and encrypted (they
    hold names and dates of birth), and its checksum for the audit log.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    checksum = models.CharField(max_length=64)
    day_first = models.BooleanField(default=True)
    all_or_nothing = models.BooleanField(default=False)
    file_name = EncryptedTextField(blank=True, default="")  # a name may name a person
    rows = EncryptedTextField()  # JSON: the table's rows, as read
    report = EncryptedTextField()  # JSON: the dry run's per-row report (values included)

    def __str__(self) -> str:
        return f"import preview {self.pk}"
