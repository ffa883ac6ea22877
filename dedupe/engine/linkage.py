"""Record linkage: blocking, field comparisons, a Fellegi–Sunter model fitted by EM, scores.

Works on plain Python records (dicts) and numpy arrays; nothing here touches Django.

- Candidates come from several blocking keys, so that work grows with the number of
  candidate pairs, not with the square of the caseload; oversized blocks are skipped.
- Each compared field falls into a level (exact, close, ..., different, missing).
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
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from dedupe.engine.normalise import Features, features

MISSING = -1
MAX_BLOCK = 400  # larger blocks say little about identity and cost quadratically


@dataclass
class Table:
    """Features of many records as aligned arrays."""

    ids: list
    given: np.ndarray
    family: np.ndarray
    given_phonetic: np.ndarray
    family_phonetic: np.ndarray
    dob: np.ndarray  # ISO strings, "" when unknown
    year: np.ndarray  # int, 0 when unknown
    month: np.ndarray
    day: np.ndarray
    sex: np.ndarray
    citizenship: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def _record_features(record: dict) -> Features:
    dob = record.get("date_of_birth")
    if isinstance(dob, str):
        try:
            dob = date.fromisoformat(dob.strip()) if dob.strip() else None
        except ValueError:
            dob = None
    year = record.get("birth_year")
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    return features(
        given=record.get("given_name") or "",
        family=record.get("family_name") or "",
        dob=dob,
        birth_year=year,
        sex=record.get("sex") or "",
        citizenship=record.get("citizenship") or "",
        extra=record.get("extra"),
    )


def build_table(records: list[dict], extra_fields: tuple[str, ...] = ()) -> Table:
    feats = [_record_features(r) for r in records]

    def column(values, dtype=object):
        return np.array(values, dtype=dtype)

    return Table(
        ids=[r["id"] for r in records],
        given=column([f.given for f in feats]),
        family=column([f.family for f in feats]),
        given_phonetic=column([f.given_phonetic for f in feats]),
        family_phonetic=column([f.family_phonetic for f in feats]),
        dob=column([f.dob.isoformat() if f.dob else "" for f in feats]),
        year=column([f.year or 0 for f in feats], np.int32),
        month=column([f.dob.month if f.dob else 0 for f in feats], np.int16),
        day=column([f.dob.day if f.dob else 0 for f in feats], np.int16),
        sex=column([f.sex for f in feats]),
        citizenship=column([f.citizenship for f in feats]),
        extra={name: column([f.extra.get(name, "") for f in feats]) for name in extra_fields},
    )


# Blocking ---------------------------------------------------------------------------


def blocking_keys(t: Table, i: int) -> list[str]:
    """The blocking keys of one record (several, so one typo does not hide a match)."""
    keys = []
    gp, fp, year = t.given_phonetic[i], t.family_phonetic[i], int(t.year[i])
    if fp and year:
        keys.append(f"fy|{fp}|{year}")
    if gp and fp:
        keys.append("gf|" + "|".join(sorted((gp, fp))))
    if gp and t.citizenship[i] and year:
        keys.append(f"gcd|{gp}|{t.citizenship[i]}|{year // 10}")
    if t.dob[i]:
        keys.append(f"dob|{t.dob[i]}|{t.sex[i]}")
        low, high = sorted((int(t.month[i]), int(t.day[i])))
        if high <= 12:  # day and month could have been swapped
            keys.append(f"dmx|{year}|{low}|{high}")
        if fp:
            keys.append(f"fym|{fp}|{year}|{int(t.month[i])}")
    for name, values in t.extra.items():
        if values[i] and name in ("soc_sec_id", "document_number"):
            keys.append(f"x|{name}|{values[i]}")
    # Where an address is known, people at the same address with a similar name.
    postcode = _extra(t, "postcode", i)
    number = _extra(t, "street_number", i)
    suburb = _extra(t, "suburb", i).replace(" ", "")[:5]
    if postcode:
        keys.extend(
            f"p{kind}|{postcode}|{value}"
            for kind, value in (("g", gp), ("f", fp), ("n", number))
            if value
        )
    if suburb and number:
        keys.append(f"sn|{suburb}|{number}")
    return keys


def _extra(t: Table, name: str, i: int) -> str:
    values = t.extra.get(name)
    return values[i] if values is not None else ""


def candidate_pairs(t: Table, max_block: int = MAX_BLOCK) -> np.ndarray:
    """Unique pairs (i < j) sharing at least one blocking key."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i in range(len(t)):
        for key in blocking_keys(t, i):
            blocks[key].append(i)
    n = len(t)
    codes = []
    for members in blocks.values():
        size = len(members)
        if size < 2 or size > max_block:
            continue
        a = np.array(members, dtype=np.int64)
        left, right = np.triu_indices(size, k=1)
        i, j = a[left], a[right]
        codes.append(np.minimum(i, j) * n + np.maximum(i, j))
    if not codes:
        return np.empty((0, 2), dtype=np.int64)
    unique = np.unique(np.concatenate(codes))
    return np.stack([unique // n, unique % n], axis=1)


# Comparisons ------------------------------------------------------------------------

FIELDS = ("given", "family", "dob", "sex", "citizenship")
NAME_LEVELS = ("exact", "very close", "close", "sounds alike", "different")
DOB_LEVELS = (
    "exact",
    "day and month swapped",
    "same year and month",
    "same year",
    "within a year",
    "different",
)


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0)
    return cpdist(list(a), list(b), scorer=JaroWinkler.normalized_similarity, workers=-1)


def _name_levels(a, b, pa, pb, sim) -> np.ndarray:
    levels = np.full(len(a), 4, dtype=np.int8)
    levels[(pa == pb) & (pa != "")] = 3
    levels[sim >= 0.85] = 2
    levels[sim >= 0.93] = 1
    levels[a == b] = 0
    levels[(a == "") | (b == "")] = MISSING
    return levels


def compare(t: Table, pairs: np.ndarray, other: Table | None = None) -> dict[str, np.ndarray]:
    """Comparison levels per field for pairs (rows of t, rows of other or t)."""
    other = other or t
    i, j = pairs[:, 0], pairs[:, 1]
    g1, g2, f1, f2 = t.given[i], other.given[j], t.family[i], other.family[j]
    straight = _similarity(g1, g2) + _similarity(f1, f2)
    crossed = _similarity(g1, f2) + _similarity(f1, g2)
    swap = crossed > straight + 0.15  # given and family names entered the other way round
    g2s, f2s = np.where(swap, f2, g2), np.where(swap, g2, f2)
    gp2 = np.where(swap, other.family_phonetic[j], other.given_phonetic[j])
    fp2 = np.where(swap, other.given_phonetic[j], other.family_phonetic[j])
    levels = {
        "given": _name_levels(g1, g2s, t.given_phonetic[i], gp2, _similarity(g1, g2s)),
        "family": _name_levels(f1, f2s, t.family_phonetic[i], fp2, _similarity(f1, f2s)),
    }
    y1, y2 = t.year[i], other.year[j]
    m1, m2, d1, d2 = t.month[i], other.month[j], t.day[i], other.day[j]
    dob = np.full(len(i), 5, dtype=np.int8)
    dob[(y1 > 0) & (y2 > 0) & (np.abs(y1 - y2) <= 1)] = 4
    dob[(y1 > 0) & (y1 == y2)] = 3
    full = (m1 > 0) & (m2 > 0)
    dob[full & (y1 == y2) & (m1 == m2)] = 2
    dob[full & (y1 == y2) & (m1 == d2) & (d1 == m2)] = 1
    dob[full & (y1 == y2) & (m1 == m2) & (d1 == d2)] = 0
    dob[(y1 == 0) | (y2 == 0)] = MISSING
    levels["dob"] = dob
    for name in ("sex", "citizenship"):
        a, b = getattr(t, name)[i], getattr(other, name)[j]
        level = np.where(a == b, 0, 1).astype(np.int8)
        level[(a == "") | (b == "")] = MISSING
        levels[name] = level
    for name in t.extra:
        if name not in other.extra:
            continue
        a, b = t.extra[name][i], other.extra[name][j]
        level = np.full(len(i), 2, dtype=np.int8)
        level[_similarity(a, b) >= 0.9] = 1
        level[a == b] = 0
        level[(a == "") | (b == "")] = MISSING
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
    return u


# Used where there is too little data to fit a model (a small file, a new caseload):
# m as the engine's defaults, u typical of a caseload of a few thousand people.
DEFAULT_PARAMETERS = {
    "m": {
        "given": [0.55, 0.25, 0.1, 0.05, 0.05],
        "family": [0.55, 0.25, 0.1, 0.05, 0.05],
        "dob": [0.80, 0.02, 0.02, 0.09, 0.04, 0.03],
        "sex": [0.97, 0.03],
        "citizenship": [0.9, 0.1],
    },
    "u": {
        "given": [0.01, 0.004, 0.006, 0.002, 0.978],
        "family": [0.008, 0.002, 0.004, 0.001, 0.985],
        "dob": [0.0001, 0.00002, 0.001, 0.02, 0.04, 0.93888],
        "sex": [0.55, 0.45],
        "citizenship": [0.15, 0.85],
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
    "dob": [0.80, 0.02, 0.02, 0.09, 0.04, 0.03],
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


def _em(levels: dict[str, np.ndarray], u: dict, fields: list[str], iterations: int = 25) -> dict:
    """m probabilities of the given fields by EM over pairs (u held fixed)."""
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
            log_ratio[known] += (np.log(m[name]) - np.log(np.array(u[name])))[values[known]]
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
# mostly hold different people and teach EM that matches disagree on the date of birth.
# Sex and citizenship go with names, which imply them.
SESSION_FIELDS = {"dob": {"dob"}, "names": {"given", "family", "sex", "citizenship"}}


def _session_pairs(session: str, levels, rare_names) -> np.ndarray:
    if session == "dob":
        return levels["dob"] == 0
    return (levels["given"] == 0) & (levels["family"] == 0) & rare_names


def estimate_m(levels: dict[str, np.ndarray], u: dict, rare_names=None) -> dict[str, list[float]]:
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
        subset = {name: levels[name][chosen] for name in levels}
        for name, m in _em(subset, u, fields).items():
            estimates[name].append(m)
    return {
        name: list(np.mean(estimates[name], axis=0) if estimates[name] else _default_m(name))
        for name in levels
    }


def estimate_prior(model: "Model", t: "Table", pairs: np.ndarray, levels) -> float:
    """Chance that two random records match: EM over all pairs, non-candidates as non-matches."""
    n = len(t)
    possible = n * (n - 1) / 2
    prior = min(1 / max(n, 2), 0.5)
    # The evidence of each pair does not depend on the prior: compute it once.
    model.prior = 0.5
    evidence, _parts = weights(model, levels, t, pairs)
    for _ in range(20):
        expected = float(probability(evidence + math.log2(prior / (1 - prior))).sum())
        prior = float(np.clip(expected / possible, 1e-9, 0.5))
    model.prior = prior
    return prior


def name_frequencies(t: Table) -> dict[str, dict[str, float]]:
    """How common each name is among people of the same citizenship ("" = overall).

    Names follow nationality, so agreeing on citizenship and on a name that is common in
    that country is worth less than the two agreements counted apart.
    """
    frequencies = {}
    for name in ("given", "family"):
        values = getattr(t, name)
        keys = np.char.add(np.char.add(t.citizenship.astype(str), "|"), values.astype(str))
        found = {}
        for group_values, prefix in ((values.astype(str), "|"), (keys, "")):
            unique, counts = np.unique(group_values, return_counts=True)
            if prefix:  # overall frequencies, keyed "|name"
                total = counts.sum()
                found.update({f"|{v}": c / total for v, c in zip(unique, counts, strict=True)})
            else:
                country_totals: dict[str, int] = defaultdict(int)
                for key, count in zip(unique, counts, strict=True):
                    country_totals[key.split("|", 1)[0]] += int(count)
                for key, count in zip(unique, counts, strict=True):
                    country = key.split("|", 1)[0]
                    if country:
                        found[key] = count / country_totals[country]
        frequencies[name] = found
    return frequencies


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


def fit(t: Table, pairs: np.ndarray | None = None, *, seed: int = 7) -> Model:
    pairs = candidate_pairs(t) if pairs is None else pairs
    u = estimate_u(t, seed=seed)
    levels = compare(t, pairs)
    frequency = name_frequencies(t)
    given_f = np.array([frequency["given"].get(f"|{v}", 0.0) for v in t.given[pairs[:, 0]]])
    family_f = np.array([frequency["family"].get(f"|{v}", 0.0) for v in t.family[pairs[:, 0]]])
    rare = len(t) * len(t) * given_f * family_f / 2 < 1
    model = Model(m=estimate_m(levels, u, rare), u=u, prior=0.5, name_frequency=frequency)
    model.prior = estimate_prior(model, t, pairs, levels)
    return model


def weights(
    model: Model,
    levels: dict[str, np.ndarray],
    t: Table,
    pairs: np.ndarray,
    other: Table | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Total match weight (bits) per pair, and each field's contribution."""
    other = other or t
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
            # Term frequency: agreeing on a rare name says more than agreeing on a common one.
            exact = values == 0
            if exact.any():
                rows = pairs[exact]
                in_country, overall = _record_tf(t, name, model.name_frequency[name])
                same_country = (t.citizenship[rows[:, 0]] == other.citizenship[rows[:, 1]]) & (
                    t.citizenship[rows[:, 0]] != ""
                )
                tf = np.where(
                    same_country & ~np.isnan(in_country[rows[:, 0]]),
                    in_country[rows[:, 0]],
                    overall[rows[:, 0]],
                )
                part[exact] = np.log2(model.m[name][0]) - np.log2(np.maximum(tf, 1e-6))
        parts[name] = part
        total += part
    return total, parts


def probability(weight: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.power(2.0, -np.clip(weight, -60, 60)))


def score(model: Model, t: Table, pairs: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    levels = compare(t, pairs)
    total, parts = weights(model, levels, t, pairs)
    return probability(total), parts
