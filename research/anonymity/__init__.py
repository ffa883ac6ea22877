"""k-anonymity engine for research extracts (plain Python, no Django); see kanon.py."""

from research.anonymity.kanon import (
    DECLINED,
    MISSING_CODES,
    NOT_APPLICABLE,
    SUPPRESSED,
    UNKNOWN,
    Hierarchy,
    Result,
    anonymise,
    suppress_only,
)

__all__ = [
    "DECLINED",
    "MISSING_CODES",
    "NOT_APPLICABLE",
    "SUPPRESSED",
    "UNKNOWN",
    "Hierarchy",
    "Result",
    "anonymise",
    "suppress_only",
]
