"""Record linkage: blocking, field comparisons, a Fellegi–Sunter model fitted by EM, scores.

Works on plain Python records (dicts) and numpy arrays; nothing here touches Django.

- Candidates come from several blocking keys, so that work grows with the number of
  candidate pairs, not with the square of the caseload; oversized blocks are skipped.
  Keys combine fields (names with a two-year window of birth, the date of birth with
  sex or a name), so that blocks stay small as the caseload grows.
- Each compared field falls into a level (exact, close, ..., different, missing).
  Everything is vectorised over integer codes: a name is normalised once per distinct
  spelling, and the similarity of two spellings is computed once per distinct pair.
- u probabilities (chance agreement) are estimated from random pairs, m probabilities
  (agreement among true matches) and the match prior by expectation–maximisation on the
  candidate pairs; exact name agreement is adjusted for the name's frequency, so that
  two "Nguyen"s count for less than two "Ogunleye"s.
- Every pair gets a match probability and each field's contribution in bits.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from dedupe.engine.normalise import phonetic, to_ascii_code, tokens

MISSING = -1
MAX_BLOCK = 400  # larger blocks say little about identity and cost quadratically
EM_SAMPLE = 1_000_000  # pairs of a training session used by EM (a random sample beyond)


@dataclass
class Table:
    """Features of many records as aligned arrays."""

    ids: list
    given: np.ndarray
    family: np.ndarray
    given_phonetic: np.ndarray  # of the first given name
    family_phonetic: np.ndarray  # of the family names written together
    dob: np.ndarray  # ISO strings, "" when unknown
    year: np.ndarray  # int, 0 when unknown
    month: np.ndarray
    day: np.ndarray
    sex: np.ndarray
    citizenship: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    given_joined_phonetic: np.ndarray | None = None  # of the given names written together

    def __len__(self) -> int:
        return len(self.ids)


def _name(raw, cache: dict) -> tuple[str, str, str]:
    """(normalised, phonetic of the first token, phonetic of all tokens joined), memoised."""
    found = cache.get(raw)
    if found is None:
        words = tokens(raw if isinstance(raw, str) else "")
        found = (
            " ".join(words),
            phonetic(words[0]) if words else "",
            phonetic("".join(words)) if words else "",
        )
        cache[raw] = found
    return found


def _date(dob, year, cache: dict) -> tuple[str, int, int, int]:
    """(ISO date or "", year, month, day), memoised: the year falls back on birth_year."""
    key = (dob if isinstance(dob, str | date) or dob is None else str(dob), year)
    found = cache.get(key)
    if found is None:
        parsed = dob if isinstance(dob, date) else None
        if isinstance(dob, str) and dob.strip():
            try:
                parsed = date.fromisoformat(dob.strip())
            except ValueError:
                parsed = None
        try:
            fallback = int(year) if year not in (None, "") else 0
        except (TypeError, ValueError):
            fallback = 0
        if parsed:
            found = (parsed.isoformat(), parsed.year, parsed.month, parsed.day)
        else:
            found = ("", fallback, 0, 0)
        cache[key] = found
    return found


# Further fields compared by their sound, like names: a place written in another script or
# transliteration ("Київ", "Kyiv", "Kiev") is the same place.
SPOKEN_FIELDS = frozenset({"place_of_birth", "birth_place", "city", "town"})


def _extra_code(name: str, value) -> str:
    if name in SPOKEN_FIELDS:
        return " ".join(phonetic(token) for token in tokens(str(value)))
    return to_ascii_code(value)


def build_table(records: list[dict], extra_fields: tuple[str, ...] = ()) -> Table:
    names: dict = {}
    dates: dict = {}
    codes: dict = {}
    n = len(records)
    given, family = np.empty(n, dtype=object), np.empty(n, dtype=object)
    gp, fp, gj = np.empty(n, dtype=object), np.empty(n, dtype=object), np.empty(n, dtype=object)
    dob = np.empty(n, dtype=object)
    year = np.zeros(n, dtype=np.int32)
    month = np.zeros(n, dtype=np.int16)
    day = np.zeros(n, dtype=np.int16)
    sex, citizenship = np.empty(n, dtype=object), np.empty(n, dtype=object)
    extra = {name: np.full(n, "", dtype=object) for name in extra_fields}
    for i, record in enumerate(records):
        g = _name(record.get("given_name") or "", names)
        f = _name(record.get("family_name") or "", names)
        given[i], gp[i], gj[i] = g
        family[i], fp[i], _ = f[0], f[2], None
        dob[i], year[i], month[i], day[i] = _date(
            record.get("date_of_birth"), record.get("birth_year"), dates
        )
        s = (record.get("sex") or "").strip().lower()[:1]
        sex[i] = s if s in ("f", "m", "t") else ""
        citizenship[i] = (record.get("citizenship") or "").strip().upper()[:2]
        values = record.get("extra")
        if values:
            for name in extra_fields:
                value = values.get(name)
                if value not in (None, ""):
                    coded = codes.get((name in SPOKEN_FIELDS, value))
                    if coded is None:
                        coded = codes[(name in SPOKEN_FIELDS, value)] = _extra_code(name, value)
                    extra[name][i] = coded
    return Table(
        ids=[r["id"] for r in records],
        given=given,
        family=family,
        given_phonetic=gp,
        family_phonetic=fp,
        dob=dob,
        year=year,
        month=month,
        day=day,
        sex=sex,
        citizenship=citizenship,
        extra=extra,
        given_joined_phonetic=gj,
    )


def _codes(t: Table, *columns: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Integer codes of some text columns in one shared vocabulary (cached on the table)."""
    cache = t.__dict__.setdefault("_code_cache", {})
    if columns not in cache:
        arrays = [_column(t, c) for c in columns]
        codes, vocabulary = pd.factorize(np.concatenate(arrays))
        split = np.split(codes.astype(np.int64), np.cumsum([len(a) for a in arrays])[:-1])
        cache[columns] = (split, np.asarray(vocabulary, dtype=object))
    return cache[columns]


def _column(t: Table, name: str) -> np.ndarray:
    if name.startswith("x:"):
        return t.extra[name[2:]]
    if name == "given_joined_phonetic" and t.given_joined_phonetic is None:
        return t.given_phonetic
    return getattr(t, name)


# Blocking ---------------------------------------------------------------------------


def _join(*parts) -> np.ndarray:
    """Element-wise "a|b|c" over arrays (or scalars) of strings or integers."""
    arrays = [p if isinstance(p, np.ndarray) else None for p in parts]
    n = next(len(a) for a in arrays if a is not None)
    columns = [
        (p.astype(str).tolist() if p.dtype != object else p.tolist())
        if isinstance(p, np.ndarray)
        else [str(p)] * n
        for p in parts
    ]
    return np.array(["|".join(values) for values in zip(*columns, strict=True)], dtype=object)


NAMES_ONLY_BLOCK = 50  # both names without the year: only where they are rare enough
FAMILY_YEAR_BLOCK = 40  # family name and year of birth alone: the same
# Names and year shared by more people than this: without a date of birth (which other
# keys cover) a record there has many namesakes as likely as its match, so no pair in
# such a block could be decided; comparing them all would cost quadratically for nothing.
NAMESAKE_BLOCK = 40
DATE_BLOCK = 60  # the date of birth (and sex) alone: where few people share it


def _key_columns(t: Table) -> list[tuple[np.ndarray, int]]:
    """Blocking keys as columns (with the largest block each may make): one key per record
    per column, "" where it does not apply.

    - both names (as phonetic codes, in either order) with a two-year window of birth:
      two windows per record, so two records born within a year share one; and without
      the year where fewer than NAMES_ONLY_BLOCK people have them;
    - the date of birth with day and month in either order, with sex where fewer than
      DATE_BLOCK people share them, and with the initial of either name (both names
      transliterated differently);
    - the exact date of birth with either name (dates shared by very many people);
    - family name, year and the given name's initial; given name, year and the start of
      the family name's code (a typo in one name); family name and year alone where fewer
      than FAMILY_YEAR_BLOCK people share them;
    - family name, year and month of birth;
    - document numbers and, where known, the address.
    """
    if len(t) == 0:
        return []
    gj = _column(t, "given_joined_phonetic")
    gp, fp = t.given_phonetic, t.family_phonetic
    year, month, day = t.year, t.month.astype(np.int32), t.day.astype(np.int32)
    has_year, has_dob = year > 0, t.dob != ""
    has_names = (gj != "") & (fp != "")
    pairs = list(zip(gj.tolist(), fp.tolist(), strict=True))
    low = np.array([a if a <= b else b for a, b in pairs], dtype=object)
    high = np.array([b if a <= b else a for a, b in pairs], dtype=object)
    columns, namesakes = [], []
    for shift in (0, 1):
        key = _join("n", low, high, np.where(has_year, (year + shift) // 2, -1))
        if shift:  # a record with an unknown year gets the one key
            key[~has_year] = ""
        key[~has_names] = ""
        columns.append(key)
        namesakes.append(key)
    key_names = key = _join("gf", low, high)
    key[~has_names] = ""
    columns.append(key)
    small, large = np.minimum(month, day), np.maximum(month, day)
    given_initial = np.array([g[:1] for g in t.given.tolist()], dtype=object)
    family_initial = np.array([f[:1] for f in t.family.tolist()], dtype=object)
    key_date = key = _join("d", year, small, large, t.sex)
    key[~has_dob] = ""
    columns.append(key)
    for kind, initial in (("dgi", given_initial), ("dfi", family_initial)):
        key = _join(kind, year, small, large, initial)
        key[~has_dob | (initial == "")] = ""
        columns.append(key)
    for kind, code in (("df", fp), ("dg", gp)):
        key = _join(kind, t.dob, code)
        key[~has_dob | (code == "")] = ""
        columns.append(key)
    key_family_year = key = _join("fy", fp, year)
    key[(fp == "") | ~has_year] = ""
    columns.append(key)
    key = _join("fyi", fp, year, given_initial)
    key[(fp == "") | ~has_year | (given_initial == "")] = ""
    columns.append(key)
    namesakes.append(key)
    start = np.array([f[:2] for f in fp.tolist()], dtype=object)
    key = _join("gyf", gp, year, start)
    key[(gp == "") | (fp == "") | ~has_year] = ""
    columns.append(key)
    namesakes.append(key)
    key = _join("fym", fp, year, month)
    key[(fp == "") | ~has_dob] = ""
    columns.append(key)
    for name in ("soc_sec_id", "document_number"):
        if name in t.extra:
            values = t.extra[name]
            key = _join("x", name, values)
            key[values == ""] = ""
            columns.append(key)
    # Where an address is known, people at the same address with a similar name.
    if "postcode" in t.extra:
        postcode = t.extra["postcode"]
        number = t.extra.get("street_number", np.full(len(t), "", dtype=object))
        for kind, value in (("g", gp), ("f", fp), ("n", number)):
            key = _join(f"p{kind}", postcode, value)
            key[(postcode == "") | (value == "")] = ""
            columns.append(key)
    if "suburb" in t.extra and "street_number" in t.extra:
        suburb = np.array([s.replace(" ", "")[:5] for s in t.extra["suburb"]], dtype=object)
        number = t.extra["street_number"]
        key = _join("sn", suburb, number)
        key[(suburb == "") | (number == "")] = ""
        columns.append(key)
    limits = {id(key_names): NAMES_ONLY_BLOCK, id(key_family_year): FAMILY_YEAR_BLOCK}
    limits.update({id(key): NAMESAKE_BLOCK for key in namesakes})
    limits[id(key_date)] = DATE_BLOCK
    return [(c, limits.get(id(c), MAX_BLOCK)) for c in columns]


def blocking_keys(t: Table, i: int, *, with_limits: bool = False) -> list:
    """The blocking keys of one record (several, so one typo does not hide a match); with
    limits, (key, largest block it may make) pairs: a larger block is skipped."""
    cache = t.__dict__.setdefault("_key_cache", None)
    if cache is None:
        cache = t.__dict__["_key_cache"] = _key_columns(t)
    if with_limits:
        return [(column[i], limit) for column, limit in cache if column[i]]
    return [column[i] for column, _limit in cache if column[i]]


def candidate_pairs(t: Table, max_block: int = MAX_BLOCK) -> np.ndarray:
    """Unique pairs (i < j) sharing at least one blocking key, in order."""
    n = len(t)
    columns = t.__dict__.get("_key_cache") or _key_columns(t)
    if not columns:
        return np.empty((0, 2), dtype=np.int64)
    keys = np.concatenate([c for c, _limit in columns])
    rows = np.tile(np.arange(n, dtype=np.int64), len(columns))
    limits = np.repeat([min(limit, max_block) for _c, limit in columns], n)
    present = keys != ""
    codes, _unique = pd.factorize(keys[present])
    limit_of_key = np.zeros(codes.max() + 1 if len(codes) else 0, dtype=np.int64)
    limit_of_key[codes] = limits[present]  # keys of different columns never coincide
    # One entry per key and record (two key columns may give a record the same key).
    entries = np.unique(codes.astype(np.int64) * n + rows[present])
    codes, rows = entries // n, entries % n
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    kept = (sizes >= 2) & (sizes <= limit_of_key[codes[starts]])
    starts, sizes = starts[kept], sizes[kept]
    found = []
    for size in np.unique(sizes):
        first = starts[sizes == size]
        members = rows[first[:, None] + np.arange(size)]
        left, right = np.triu_indices(size, k=1)
        i, j = members[:, left].ravel(), members[:, right].ravel()
        found.append(np.minimum(i, j) * n + np.maximum(i, j))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    unique = np.unique(np.concatenate(found))
    del found
    dtype = np.int32 if n < 2**31 else np.int64
    return np.stack([(unique // n).astype(dtype), (unique % n).astype(dtype)], axis=1)


# Comparisons ------------------------------------------------------------------------

FIELDS = ("given", "family", "dob", "sex", "citizenship")
NAME_LEVELS = ("exact", "very close", "close", "sounds alike", "different")
DOB_LEVELS = (
    "exact",
    "day and month swapped",
    "one of day, month and year differs",
    "same year (only the year known for one)",
    "within a year (only the year known for one)",
    "different",
)


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0)
    workers = -1 if len(a) > 20_000 else 1  # threads cost more than a few comparisons
    return cpdist(list(a), list(b), scorer=JaroWinkler.normalized_similarity, workers=workers)


def _code_similarity(a: np.ndarray, b: np.ndarray, vocabulary: np.ndarray) -> np.ndarray:
    """Jaro–Winkler of vocabulary[a] and vocabulary[b], computed once per distinct pair."""
    if len(a) == 0:
        return np.zeros(0)
    size = len(vocabulary)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    inverse, unique = pd.factorize(lo * size + hi)
    sims = _similarity(vocabulary[unique // size], vocabulary[unique % size])
    return sims[inverse]


def _name_levels(same, sim, phonetic_same, missing) -> np.ndarray:
    levels = np.full(len(sim), 4, dtype=np.int8)
    levels[phonetic_same] = 3
    levels[sim >= 0.85] = 2
    levels[sim >= 0.93] = 1
    levels[same] = 0
    levels[missing] = MISSING
    return levels


class _Side:
    """Codes of one side of the pairs, in vocabularies shared with the other side."""

    def __init__(self, t: Table, other: Table, i: np.ndarray, j: np.ndarray):
        if other is t:
            (g, f), self.names = _codes(t, "given", "family")
            (gp, fp), _ = _codes(t, "given_phonetic", "family_phonetic")
            self.g1, self.g2, self.f1, self.f2 = g[i], g[j], f[i], f[j]
            self.gp1, self.gp2, self.fp1, self.fp2 = gp[i], gp[j], fp[i], fp[j]
        else:  # a few records against a few others (a new registration): small
            names, codes = np.unique(
                np.concatenate([t.given, t.family, other.given, other.family]).astype(str),
                return_inverse=True,
            )
            self.names = names.astype(object)
            n, m = len(t), len(other)
            g, f = codes[:n], codes[n : 2 * n]
            og, of = codes[2 * n : 2 * n + m], codes[2 * n + m :]
            sounds, pcodes = np.unique(
                np.concatenate(
                    [
                        t.given_phonetic,
                        t.family_phonetic,
                        other.given_phonetic,
                        other.family_phonetic,
                    ]
                ).astype(str),
                return_inverse=True,
            )
            gp, fp = pcodes[:n], pcodes[n : 2 * n]
            ogp, ofp = pcodes[2 * n : 2 * n + m], pcodes[2 * n + m :]
            self.g1, self.g2, self.f1, self.f2 = g[i], og[j], f[i], of[j]
            self.gp1, self.gp2, self.fp1, self.fp2 = gp[i], ogp[j], fp[i], ofp[j]
        empty = np.flatnonzero(self.names == "")
        self.empty = empty[0] if len(empty) else -1


def _dob_levels(y1, y2, m1, m2, d1, d2) -> np.ndarray:
    dob = np.full(len(y1), 5, dtype=np.int8)
    one_only = ((m1 == 0) | (m2 == 0)) & (y1 > 0) & (y2 > 0)
    dob[one_only & (np.abs(y1 - y2) <= 1)] = 4
    dob[one_only & (y1 == y2)] = 3
    full = (m1 > 0) & (m2 > 0)
    same_y, same_m, same_d = y1 == y2, m1 == m2, d1 == d2
    one_differs = same_y.astype(np.int8) + same_m + same_d == 2
    dob[full & one_differs] = 2
    dob[full & same_y & (m1 == d2) & (d1 == m2)] = 1
    dob[full & same_y & same_m & same_d] = 0
    dob[(y1 == 0) | (y2 == 0)] = MISSING
    return dob


COMPARE_CHUNK = 2_000_000  # pairs compared at a time: bounds the temporary arrays


def compare(t: Table, pairs: np.ndarray, other: Table | None = None) -> dict[str, np.ndarray]:
    """Comparison levels per field for pairs (rows of t, rows of other or t), as int8."""
    other = t if other is None else other
    if len(pairs) <= COMPARE_CHUNK:
        return _compare(t, pairs, other)
    chunks = [
        _compare(t, pairs[start : start + COMPARE_CHUNK], other)
        for start in range(0, len(pairs), COMPARE_CHUNK)
    ]
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}


def _compare(t: Table, pairs: np.ndarray, other: Table) -> dict[str, np.ndarray]:
    i, j = pairs[:, 0], pairs[:, 1]
    s = _Side(t, other, i, j)
    sim = lambda a, b: _code_similarity(a, b, s.names)  # noqa: E731
    gg, ff = sim(s.g1, s.g2), sim(s.f1, s.f2)
    straight = gg + ff
    swap = np.zeros(len(i), dtype=bool)
    maybe = np.flatnonzero(straight < 1.85)  # only there can the crossed names be closer
    if len(maybe):
        crossed = sim(s.g1[maybe], s.f2[maybe]) + sim(s.f1[maybe], s.g2[maybe])
        swap[maybe] = crossed > straight[maybe] + 0.15  # given and family names swapped
    g2, f2 = np.where(swap, s.f2, s.g2), np.where(swap, s.g2, s.f2)
    gp2, fp2 = np.where(swap, s.fp2, s.gp2), np.where(swap, s.gp2, s.fp2)
    if swap.any():
        gg, ff = gg.copy(), ff.copy()
        gg[swap] = sim(s.g1[swap], g2[swap])
        ff[swap] = sim(s.f1[swap], f2[swap])
    empty = s.empty
    levels = {
        "given": _name_levels(
            s.g1 == g2, gg, (s.gp1 == gp2) & (s.g1 != empty), (s.g1 == empty) | (g2 == empty)
        ),
        "family": _name_levels(
            s.f1 == f2, ff, (s.fp1 == fp2) & (s.f1 != empty), (s.f1 == empty) | (f2 == empty)
        ),
    }
    levels["dob"] = _dob_levels(
        t.year[i].astype(np.int32),
        other.year[j].astype(np.int32),
        t.month[i],
        other.month[j],
        t.day[i],
        other.day[j],
    )
    for name in ("sex", "citizenship"):
        a, b = getattr(t, name)[i], getattr(other, name)[j]
        level = np.where(a == b, 0, 1).astype(np.int8)
        level[(a == "") | (b == "")] = MISSING
        levels[name] = level
    for name in t.extra:
        if name not in other.extra:
            continue
        if other is t:
            (codes,), vocabulary = _codes(t, f"x:{name}")
            a, b = codes[i], codes[j]
            empty = np.flatnonzero(vocabulary == "")
            missing = (a == empty[0]) | (b == empty[0]) if len(empty) else np.zeros(len(i), bool)
            close = _code_similarity(a, b, vocabulary) >= 0.9
        else:
            a, b = t.extra[name][i], other.extra[name][j]
            missing = (a == "") | (b == "")
            close = _similarity(a, b) >= 0.9
        level = np.full(len(i), 2, dtype=np.int8)
        level[close] = 1
        level[a == b] = 0
        level[missing] = MISSING
        levels[f"x:{name}"] = level
    return levels


# The Fellegi–Sunter model -----------------------------------------------------------


@dataclass
class Model:
    """m and u per field and level, the match prior, and name frequencies."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float
    name_frequency: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"m": self.m, "u": self.u, "prior": self.prior}

    @classmethod
    def from_dict(cls, data: dict, name_frequency=None) -> "Model":
        return cls(
            m=data["m"], u=data["u"], prior=data["prior"], name_frequency=name_frequency or {}
        )


def _levels_count(levels: np.ndarray) -> int:
    return int(levels.max()) + 1 if len(levels) and levels.max() >= 0 else 1


def estimate_u(t: Table, samples: int = 200_000, seed: int = 7) -> dict[str, list[float]]:
    """Chance agreement, from random pairs (nearly all of which are non-matches)."""
    rng = np.random.default_rng(seed)
    n = len(t)
    i = rng.integers(0, n, size=samples)
    j = rng.integers(0, n, size=samples)
    keep = i != j
    levels = compare(t, np.stack([i[keep], j[keep]], axis=1))
    u = {}
    for name, values in levels.items():
        size = _level_sizes(name)
        counts = np.bincount(values[values >= 0], minlength=size).astype(float) + 0.5
        u[name] = list(counts / counts.sum())
    if "dob" in u and len(t) > 1:
        u["dob"] = _exact_dob_u(t, np.array(u["dob"]))
    return u


def _exact_dob_u(t: Table, sampled: np.ndarray) -> list[float]:
    """The chance of the same date of birth, and of day and month swapped, computed from
    how often each date occurs rather than counted among random pairs: a few in 100,000
    random pairs agree on a date, so the count (and with it the weight of an exact date
    and the fitted prior) would jump from one run to the next."""
    with_year = t.year > 0
    total = float(with_year.sum())
    full = t.dob[with_year & (t.dob != "")].astype(str)
    if total < 2 or len(full) == 0:
        return list(sampled)
    dates, counts = np.unique(full, return_counts=True)
    count_of = dict(zip(dates.tolist(), counts.tolist(), strict=True))
    same = float((counts.astype(float) ** 2).sum() - counts.sum()) / (total * (total - 1))
    swapped = 0.0
    for value, count in count_of.items():
        year, month, day = value[:4], value[5:7], value[8:10]
        if month != day and int(day) <= 12:
            swapped += count * count_of.get(f"{year}-{day}-{month}", 0)
    swapped /= total * (total - 1)
    rest = sampled[2:] / sampled[2:].sum() * max(1 - same - swapped, 1e-6)
    exact = np.array([max(same, 1e-9), max(swapped, 1e-9)])
    return list(np.concatenate([exact, rest]))


# Used where there is too little data to fit a model (a small file, a new caseload):
# m as the engine's defaults, u typical of a caseload of a few thousand people.
DEFAULT_PARAMETERS = {
    "m": {
        "given": [0.55, 0.25, 0.1, 0.05, 0.05],
        "family": [0.55, 0.25, 0.1, 0.05, 0.05],
        "dob": [0.80, 0.02, 0.04, 0.09, 0.03, 0.02],
        "sex": [0.97, 0.03],
        "citizenship": [0.9, 0.1],
        # Further fields of the registration form (levels exact, close, different): a
        # place of birth is often left out or written differently, a person may show
        # another document (or a misread number) at another mission.
        "x:place_of_birth": [0.8, 0.1, 0.1],
        "x:document_number": [0.9, 0.04, 0.06],
    },
    "u": {
        "given": [0.01, 0.004, 0.006, 0.002, 0.978],
        "family": [0.008, 0.002, 0.004, 0.001, 0.985],
        "dob": [0.0001, 0.00002, 0.005, 0.006, 0.01, 0.97888],
        "sex": [0.55, 0.45],
        "citizenship": [0.15, 0.85],
        "x:place_of_birth": [0.02, 0.003, 0.977],
        "x:document_number": [0.0001, 0.0001, 0.9998],
    },
    "prior": 0.0001,
}


MIN_RECORDS_TO_FIT = 1000


def _level_sizes(name: str) -> int:
    if name in ("given", "family"):
        return len(NAME_LEVELS)
    if name == "dob":
        return len(DOB_LEVELS)
    if name in ("sex", "citizenship"):
        return 2
    return 3


# Used for a field that no training session could estimate (for example when every name
# is common, so pairs agreeing on names are mostly different people).
PRIOR_M = {
    "dob": [0.80, 0.02, 0.04, 0.09, 0.03, 0.02],
    "sex": [0.97, 0.03],
    "citizenship": [0.9, 0.1],
}


def _default_m(name: str) -> np.ndarray:
    if name in PRIOR_M:
        return np.array(PRIOR_M[name])
    size = _level_sizes(name)
    decreasing = np.array([0.9 * (0.25**k) for k in range(size)])
    decreasing[-1] = max(decreasing[-1], 0.01)
    return decreasing / decreasing.sum()


def _em(
    levels: dict[str, np.ndarray],
    u: dict,
    fields: list[str],
    iterations: int = 25,
    pair_u: dict[str, np.ndarray] | None = None,
) -> dict:
    """m probabilities of the given fields by EM over pairs (u held fixed; per pair where
    pair_u gives it: names adjusted for their frequency, as they are scored)."""
    pair_u = pair_u or {}
    m = {name: _default_m(name) for name in fields}
    # Start from "matches are a minority that agree": EM then keeps the match class on
    # agreement instead of settling on the larger, chance-agreeing group.
    prior = 0.05
    n = len(next(iter(levels.values())))
    for _ in range(iterations):
        log_ratio = np.full(n, math.log(prior / (1 - prior)))
        for name in fields:
            values = levels[name]
            known = values >= 0
            chance = np.array(u[name])[np.maximum(values, 0)]
            if name in pair_u:
                chance = np.where(np.isnan(pair_u[name]), chance, pair_u[name])
            log_ratio[known] += np.log(m[name][values[known]]) - np.log(chance[known])
        posterior = 1 / (1 + np.exp(-np.clip(log_ratio, -50, 50)))
        prior = float(np.clip(posterior.mean(), 1e-4, 1 - 1e-4))
        for name in fields:
            values = levels[name]
            known = values >= 0
            weights = np.bincount(
                values[known], weights=posterior[known], minlength=_level_sizes(name)
            )
            m[name] = (weights + 1e-3) / (weights + 1e-3).sum()
    return m


# Training sessions: pairs selected by agreement on some fields, EM over the others. A
# field's m is never estimated from pairs chosen for agreeing on it, which would bias it
# (the blocking dependence that otherwise drives EM to call every candidate a match).
# Pairs agreeing on names count only when the names are rare enough that fewer than one
# chance agreement is expected in the whole table; with common names that session would
# mostly hold different people and teach EM that matches disagree on the date of birth
# (measured: with every name-agreeing pair of synthetic.generate(20000), EM put 66 % of
# the matches' m on "different" dates and cluster F1 fell from 0.71 to 0.60).
# Sex and citizenship go with names, which imply them.
SESSION_FIELDS = {"dob": {"dob"}, "names": {"given", "family", "sex", "citizenship"}}
SESSION_HELPERS: dict[str, set] = {"dob": set(), "names": set()}


def _session_pairs(session: str, levels, rare_names) -> np.ndarray:
    if session == "dob":
        return levels["dob"] == 0
    return (levels["given"] == 0) & (levels["family"] == 0) & rare_names


def estimate_m(
    levels: dict[str, np.ndarray], u: dict, rare_names=None, pair_u: dict | None = None
) -> dict[str, list[float]]:
    estimates: dict[str, list[np.ndarray]] = defaultdict(list)
    if rare_names is None:
        rare_names = np.ones(len(levels["given"]), dtype=bool)
    for session in SESSION_FIELDS:
        chosen = _session_pairs(session, levels, rare_names)
        if chosen.sum() < 20:
            continue
        fields = [name for name in levels if name not in SESSION_FIELDS[session]]
        fields = [name for name in fields if (levels[name][chosen] >= 0).any()]
        if len(fields) < 3:
            continue  # two latent classes over one or two fields are not identifiable
        rows = np.flatnonzero(chosen)
        if len(rows) > EM_SAMPLE:
            rows = np.sort(np.random.default_rng(7).choice(rows, EM_SAMPLE, replace=False))
        subset = {name: levels[name][rows] for name in levels}
        subset_u = {name: values[rows] for name, values in (pair_u or {}).items()}
        for name, m in _em(subset, u, fields, pair_u=subset_u).items():
            if name not in SESSION_HELPERS[session]:
                estimates[name].append(m)
    return {
        name: _floored(np.mean(estimates[name], axis=0) if estimates[name] else _default_m(name))
        for name in levels
    }


# No level is impossible for a true match: a sex or citizenship entered wrongly, another
# document shown at another mission. Without a floor, data with no such slip in the
# training pairs would make one slip outweigh every other agreement (about -20 bits).
M_FLOOR = 0.005


def _floored(m: np.ndarray) -> list[float]:
    m = np.maximum(np.asarray(m, dtype=float), M_FLOOR)
    return list(m / m.sum())


def estimate_prior(model: "Model", t: "Table", pairs: np.ndarray, levels) -> float:
    """Chance that two random records match: EM over all pairs, non-candidates as non-matches."""
    n = len(t)
    # The evidence of each pair does not depend on the prior: compute it once.
    model.prior = 0.5
    evidence, _parts = weights(model, levels, t, pairs, explain=False)
    model.prior = estimate_prior_from(evidence, n)
    return model.prior


def estimate_prior_from(evidence: np.ndarray, n: int) -> float:
    """The prior from each candidate pair's evidence (bits, at a prior of 0.5)."""
    possible = n * (n - 1) / 2
    prior = min(1 / max(n, 2), 0.5)
    # Pairs by evidence to a hundredth of a bit: the iterations then cost nothing.
    bins, counts = np.unique(np.round(evidence, 2), return_counts=True)
    for _ in range(20):
        expected = float((counts * probability(bins + math.log2(prior / (1 - prior)))).sum())
        prior = float(np.clip(expected / possible, 1e-9, 0.5))
    return prior


def name_frequencies(t: Table) -> dict[str, dict[str, float]]:
    """How common each name is among people of the same citizenship ("" = overall).

    Names follow nationality, so agreeing on citizenship and on a name that is common in
    that country is worth less than the two agreements counted apart.
    """
    frequencies = {}
    for name in ("given", "family"):
        frequencies[name] = _frequencies(getattr(t, name), t.citizenship)
        if PHONETIC_TF:  # the same for the names' phonetic codes, keyed "~country|code"
            codes = _column(t, "given_joined_phonetic" if name == "given" else "family_phonetic")
            found = _frequencies(codes, t.citizenship)
            frequencies[name].update({f"~{key}": value for key, value in found.items()})
    for name in SPOKEN_FIELDS & set(t.extra):  # places: Kyiv is common, a village is not
        values = t.extra[name]
        known = values != ""
        if known.any():
            frequencies[f"x:{name}"] = _frequencies(values[known], t.citizenship[known])
    return frequencies


def _extra_tf(model: Model, name: str, values, part, t: Table, other: Table, pairs) -> None:
    """Exact agreement on a spoken field weighs log m - log f, f the value's frequency
    among people of the same citizenship (or overall), as for names."""
    frequency = model.name_frequency.get(name)
    exact = np.flatnonzero(values == 0)
    if not frequency or not exact.size:
        return
    field_name = name[2:]
    first, second = pairs[exact, 0], pairs[exact, 1]
    value = t.extra[field_name][first]
    country = t.citizenship[first]
    same_country = (country == other.citizenship[second]) & (country != "")
    rarest = min(frequency.values(), default=1e-6)
    found = np.array(
        [
            (frequency.get(f"{c}|{v}") if same else None) or frequency.get(f"|{v}") or rarest
            for v, c, same in zip(value, country, same_country, strict=True)
        ],
        dtype=float,
    )
    part[exact] = math.log2(model.m[name][0]) - np.log2(np.maximum(found, 1e-6))


# A name's frequency is also that of its phonetic code, the commoner kept: a rare
# transliteration of a common name ("Malee" for "Mali") is not a rare name.
PHONETIC_TF = True


def _frequencies(values: np.ndarray, citizenship: np.ndarray) -> dict[str, float]:
    """Share of each value overall ("|value") and within each citizenship ("XX|value")."""
    values = values.astype(str)
    keys = np.char.add(np.char.add(citizenship.astype(str), "|"), values)
    found = {}
    unique, counts = np.unique(values, return_counts=True)
    total = counts.sum()
    found.update({f"|{v}": c / total for v, c in zip(unique, counts, strict=True)})
    unique, counts = np.unique(keys, return_counts=True)
    country_totals: dict[str, int] = defaultdict(int)
    for key, count in zip(unique, counts, strict=True):
        country_totals[key.split("|", 1)[0]] += int(count)
    for key, count in zip(unique, counts, strict=True):
        country = key.split("|", 1)[0]
        if country:
            found[key] = count / country_totals[country]
    return found


def _record_tf(t: Table, name: str, frequency: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per record: its name's frequency within its citizenship (NaN if unknown) and overall.

    Looked up once per table and frequency table, not once per pair.
    """
    cache = t.__dict__.setdefault("_tf_cache", {})
    key = (name, id(frequency))
    if key not in cache:
        values, citizenship = getattr(t, name), t.citizenship
        in_country = np.array(
            [
                frequency.get(f"{c}|{v}", np.nan) if c else np.nan
                for c, v in zip(citizenship, values, strict=True)
            ],
            dtype=float,
        )
        fallback = 1 / max(len(t), 1)
        overall = np.array([frequency.get(f"|{v}") or fallback for v in values], dtype=float)
        cache[key] = (in_country, overall)
    return cache[key]


def _tf_either_field(t: Table, name: str, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Like _record_tf, the name looked up as a given and as a family name, the commoner
    kept: a family name written in the given-name field ("Shrestha, Bikash") is as common
    as the family name, not as rare as a given name "Shrestha"."""
    cache = t.__dict__.setdefault("_tf_cache", {})
    key = ("either", name, id(model.name_frequency))
    if key not in cache:
        found = []
        codes = _column(t, "given_joined_phonetic" if name == "given" else "family_phonetic")
        lookups = [(kind, getattr(t, name), "") for kind in ("given", "family")]
        if PHONETIC_TF:
            lookups += [(kind, codes, "~") for kind in ("given", "family")]
        for kind, values, mark in lookups:
            frequency = model.name_frequency.get(kind) or {}
            citizenship = t.citizenship
            in_country = np.array(
                [
                    frequency.get(f"{mark}{c}|{v}", np.nan) if c and v else np.nan
                    for c, v in zip(citizenship, values, strict=True)
                ],
                dtype=float,
            )
            overall = np.array(
                [frequency.get(f"{mark}|{v}", np.nan) if v else np.nan for v in values],
                dtype=float,
            )
            found.append((in_country, overall))
        in_country = np.fmax.reduce([f[0] for f in found])
        overall = np.fmax.reduce([f[1] for f in found])
        # A name never seen: as rare as the rarest seen (not 1 / the size of this table,
        # which for one new registration would make every name look universal).
        rarest = model.__dict__.get("_rarest")
        if rarest is None:
            rarest = model.__dict__["_rarest"] = min(
                (min(f.values()) for f in model.name_frequency.values() if f), default=1e-6
            )
        overall[np.isnan(overall)] = rarest
        cache[key] = (in_country, overall)
    return cache[key]


def rare_names(t: Table, pairs: np.ndarray, frequency: dict) -> np.ndarray:
    """Pairs whose first record's names are rare enough that fewer than one chance
    agreement on both is expected in the whole table."""
    _in, given_f = _record_tf(t, "given", frequency["given"])
    _in, family_f = _record_tf(t, "family", frequency["family"])
    first = pairs[:, 0]
    return len(t) * len(t) * given_f[first] * family_f[first] / 2 < 1


def fit(
    t: Table,
    pairs: np.ndarray | None = None,
    *,
    seed: int = 7,
    levels: dict[str, np.ndarray] | None = None,
) -> Model:
    pairs = candidate_pairs(t) if pairs is None else pairs
    u = estimate_u(t, seed=seed)
    levels = compare(t, pairs) if levels is None else levels
    frequency = name_frequencies(t)
    rare = rare_names(t, pairs, frequency)
    model = Model(m={}, u=u, prior=0.5, name_frequency=frequency)
    # EM sees the names as scoring does, adjusted for their frequency within the country:
    # otherwise two compatriots sharing a common given name look like a match to it, and
    # among the many chance agreements on a date of birth in a large caseload it would
    # learn that matches mostly disagree on names (cluster recall 0.01 on 1,000,000).
    pair_u = {name: _pair_u(model, name, levels[name], t, t, pairs) for name in ("given", "family")}
    model.m = estimate_m(levels, u, rare, pair_u)
    model.prior = estimate_prior(model, t, pairs, levels)
    return model


def weights(
    model: Model,
    levels: dict[str, np.ndarray],
    t: Table,
    pairs: np.ndarray,
    other: Table | None = None,
    *,
    explain: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Total match weight (bits) per pair, and each field's contribution (unless not
    explain: then the contributions are not kept, which saves memory on many pairs)."""
    other = t if other is None else other
    total = np.full(len(pairs), math.log2(model.prior / (1 - model.prior)))
    parts = {}
    for name, values in levels.items():
        if name not in model.m:
            continue
        ratio = np.log2(np.array(model.m[name])) - np.log2(np.array(model.u[name]))
        part = np.zeros(len(pairs))
        known = values >= 0
        part[known] = ratio[values[known]]
        if name in ("given", "family") and model.name_frequency.get(name):
            _name_tf(model, name, values, part, t, other, pairs)
        elif name.startswith("x:") and name[2:] in SPOKEN_FIELDS:
            _extra_tf(model, name, values, part, t, other, pairs)
        if explain:
            parts[name] = part
        total += part
    return total, parts


def _name_tf(model: Model, name: str, values, part, t: Table, other: Table, pairs) -> None:
    """Term frequency: agreeing on a rare name says more than agreeing on a common one.

    Exact agreement weighs log m - log f (f: the name's frequency among people of the same
    citizenship, or overall). A close spelling (very close, close, sounds alike) is
    adjusted alike, only ever downwards: its chance rate u is scaled by max(f) / u(exact)
    where above 1, the frequency of the commoner of the two spellings relative to an
    average name's, since a variant of a common name ("Tatyana" for "Tatiana") is met by
    chance as often as the name is.
    """
    chance = _pair_u(model, name, values, t, other, pairs)
    chosen = ~np.isnan(chance)
    if chosen.any():
        m = np.array(model.m[name])
        part[chosen] = np.log2(m[values[chosen]]) - np.log2(np.maximum(chance[chosen], 1e-6))


def _pair_u(model: Model, name: str, values, t: Table, other: Table, pairs) -> np.ndarray:
    """Per pair, the chance rate of its name level adjusted for the names' frequency
    (see _name_tf); NaN where not adjusted (different, missing, no frequencies)."""
    found = np.full(len(values), np.nan)
    chosen = (values >= 0) & (values <= 3)  # exact, very close, close, sounds alike
    if not chosen.any() or not model.name_frequency.get(name):
        return found
    rows = pairs[chosen]
    first, second = rows[:, 0], rows[:, 1]
    in_t, all_t = _tf_either_field(t, name, model)
    in_o, all_o = _tf_either_field(other, name, model) if other is not t else (in_t, all_t)
    same_country = (t.citizenship[first] == other.citizenship[second]) & (
        t.citizenship[first] != ""
    )
    tf_first = np.where(same_country & ~np.isnan(in_t[first]), in_t[first], all_t[first])
    tf_second = np.where(same_country & ~np.isnan(in_o[second]), in_o[second], all_o[second])
    level = values[chosen]
    u = np.array(model.u[name])
    exact = level == 0
    # A variant only ever counts for less for being common: rare spellings of a typo are
    # rare because of the typo, which says nothing about the person.
    scaled = u[level] * np.maximum(np.maximum(tf_first, tf_second) / u[0], 1)
    found[chosen] = np.where(exact, tf_first, np.minimum(scaled, 0.5))
    return found


def probability(weight: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.power(2.0, -np.clip(weight, -60, 60)))


def score(
    model: Model, t: Table, pairs: np.ndarray, levels: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    levels = compare(t, pairs) if levels is None else levels
    total, parts = weights(model, levels, t, pairs)
    return probability(total), parts
