"""Keyed blind indexes: exact look-up of identifiers without decrypting a table.

A blind index is an HMAC-SHA256, under a key of its own, of a normalised value. The
same normalisation is applied when storing and when searching, so "  ŠEVČENKO olena"
finds "Olena Ševčenko". Without the key the digests reveal nothing and cannot be
brute-forced offline.
"""

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from django.conf import settings

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`.,;:/]+")


def normalise_name(value: str) -> str:
    """Return the name folded to case- and accent-free tokens in sorted order."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    tokens = [t for t in _SEPARATORS.split(stripped.casefold()) if t]
    return " ".join(sorted(tokens))


def digest(purpose: str, normalised: str, key: str | None = None) -> str:
    """Return the hex HMAC of a normalised value, separated by purpose."""
    secret = (key or settings.BLIND_INDEX_KEY).encode()
    message = f"{purpose}\x1f{normalised}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def name_index(*parts: str, key: str | None = None) -> str:
    """Index of a full name, independent of order, case, accents and punctuation."""
    normalised = normalise_name(" ".join(p for p in parts if p))
    return digest("name", normalised, key) if normalised else ""


def family_name_index(family_names: str, key: str | None = None) -> str:
    normalised = normalise_name(family_names)
    return digest("family", normalised, key) if normalised else ""


def date_of_birth_index(value: date | None, key: str | None = None) -> str:
    return digest("dob", value.isoformat(), key) if value else ""
