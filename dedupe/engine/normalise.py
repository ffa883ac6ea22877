"""Names and dates made comparable across scripts, spellings and orders.

Every name is transliterated to Latin (anyascii covers Cyrillic, Devanagari, Thai,
Ethiopic, Arabic and the rest), folded to lower-case ASCII without diacritics, split
into tokens with particles dropped, and given phonetic codes, so that "Олена Шевченко",
"Olena Shevchenko" and "Elena Chevtchenko" land close together.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import jellyfish
from anyascii import anyascii

_NON_LETTERS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
# Particles and honorifics that vary between registrations of the same person.
PARTICLES = frozenset(
    {
        "al", "el", "bin", "ibn", "bint", "abu", "van", "von", "der", "den", "de", "del",
        "della", "di", "da", "dos", "das", "du", "la", "le", "mr", "mrs", "ms", "miss",
        "thi", "binti",
    }
)  # fmt: skip
# Spelling variants that transliteration systems disagree on, folded before phonetics.
_FOLDS = [
    (re.compile(r"kh"), "h"),
    (re.compile(r"tch|tsch|ch"), "ch"),
    (re.compile(r"(?<=[aeiou])y(?=[aeiou])"), "i"),
    (re.compile(r"iy|yi|ii"), "i"),
    (re.compile(r"ou"), "u"),
    (re.compile(r"w"), "v"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"([a-z])\1"), r"\1"),
]


def to_ascii(text: str) -> str:
    """Latin lower-case letters and single spaces only."""
    text = unicodedata.normalize("NFKC", text if isinstance(text, str) else "")
    text = anyascii(text).lower()
    text = text.replace("'", "").replace("`", "")
    text = _NON_LETTERS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")


def to_ascii_code(text) -> str:
    """Like to_ascii, keeping digits: for addresses, postcodes and document numbers."""
    text = anyascii(unicodedata.normalize("NFKC", str(text))).lower()
    return _SPACES.sub(" ", _NON_ALNUM.sub(" ", text)).strip()


def tokens(text: str) -> list[str]:
    words = to_ascii(text).split()
    kept = [w for w in words if w not in PARTICLES]
    return kept or words


def fold(token: str) -> str:
    for pattern, replacement in _FOLDS:
        token = pattern.sub(replacement, token)
    return token


def phonetic(token: str) -> str:
    """A phonetic code robust to transliteration: metaphone of the folded spelling."""
    if not token:
        return ""
    return jellyfish.metaphone(fold(token)) or fold(token)[:4]


@dataclass
class Features:
    given: str = ""  # normalised, tokens joined by spaces
    family: str = ""
    given_tokens: tuple[str, ...] = ()
    family_tokens: tuple[str, ...] = ()
    given_phonetic: str = ""
    family_phonetic: str = ""
    dob: date | None = None
    year: int | None = None
    sex: str = ""
    citizenship: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def full_sorted(self) -> str:
        return " ".join(sorted(self.given_tokens + self.family_tokens))


def features(
    *,
    given: str = "",
    family: str = "",
    dob: date | None = None,
    birth_year: int | None = None,
    sex: str = "",
    citizenship: str = "",
    extra: dict | None = None,
) -> Features:
    given_tokens = tuple(tokens(given))
    family_tokens = tuple(tokens(family))
    sex = (sex or "").strip().lower()[:1]
    return Features(
        given=" ".join(given_tokens),
        family=" ".join(family_tokens),
        given_tokens=given_tokens,
        family_tokens=family_tokens,
        given_phonetic=phonetic(given_tokens[0]) if given_tokens else "",
        family_phonetic=phonetic("".join(family_tokens)),
        dob=dob,
        year=dob.year if dob else birth_year,
        sex=sex if sex in ("f", "m", "t") else "",
        citizenship=(citizenship or "").strip().upper()[:2],
        extra={k: to_ascii_code(v) for k, v in (extra or {}).items() if v not in (None, "")},
    )
