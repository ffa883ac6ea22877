"""System checks for the keys the product cannot work without."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register


@register()
def encryption_keys_check(app_configs, **kwargs):
    errors = []
    keys = settings.FIELD_ENCRYPTION_KEY
    if not keys:
        errors.append(Error("FIELD_ENCRYPTION_KEY holds no key.", id="casework.E001"))
    for position, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"FIELD_ENCRYPTION_KEY entry {position + 1} is not a valid Fernet key.",
                    hint="Generate one with: python -c 'from cryptography.fernet import "
                    "Fernet; print(Fernet.generate_key().decode())'",
                    id="casework.E002",
                )
            )
    if len(settings.BLIND_INDEX_KEY) < 32:
        errors.append(Error("BLIND_INDEX_KEY must be at least 32 characters.", id="casework.E003"))
    return errors
