"""The k-anonymity engine (research.anonymity), checked independently with pycanon.

Plain functions, no database.
"""

import itertools

import numpy as np
import pandas as pd
import pytest
from pycanon import anonymity as pycanon

from research.anonymity import (
    DECLINED,
    NOT_APPLICABLE,
    SUPPRESSED,
    UNKNOWN,
    Hierarchy,
    anonymise,
)

REAL_MISSING = (UNKNOWN, DECLINED, NOT_APPLICABLE)


def flat(codes):
    return dict.fromkeys(codes, 0)


def hierarchies():
    return {
        "sex": Hierarchy(({}, flat(range(2)))),
        "age": Hierarchy.chain({a: int(a >= 2) for a in range(9)}, flat(range(2))),
        "citizenship": Hierarchy.chain({c: c % 6 for c in range(30)}, flat(range(6))),
        "year": Hierarchy.chain({y: (y - 2000) // 5 for y in range(2000, 2026)}, flat(range(6))),
        "flag": Hierarchy.identity(),
    }


def random_frame(seed, rows, missing=True):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, 31) ** 1.2
    frame = pd.DataFrame(
        {
            "sex": rng.integers(0, 2, rows).astype("int16"),
            "age": rng.integers(0, 9, rows).astype("int16"),
            "citizenship": rng.choice(30, rows, p=p / p.sum()).astype("int32"),
            "year": rng.integers(2000, 2026, rows).astype("int32"),
            "flag": rng.integers(0, 2, rows).astype("int64"),
            "service": rng.integers(0, 6, rows).astype("int16"),
            "outcome": rng.integers(0, 3, rows).astype("int16"),
            "note_id": np.arange(rows, dtype="int64") * 7,
        },
        index=pd.RangeIndex(1000, 1000 + rows),
    )
    if missing:
        for name, code in [("age", UNKNOWN), ("citizenship", DECLINED), ("year", NOT_APPLICABLE)]:
            frame.loc[rng.random(rows) < 0.05, name] = code
        frame.loc[rng.random(rows) < 0.05, "service"] = UNKNOWN
    return frame


def assert_honest(frame, result, qis, k, sensitive=()):
    """k (and l) as pycanon sees them, and the codes are allowed transformations."""
    out = result.frame
    assert out.index.equals(frame.index)
    assert list(out.columns) == list(frame.columns)
    assert (out.dtypes == frame.dtypes).all()
    plain = out.reset_index(drop=True)  # pycanon indexes by position
    k_pycanon = pycanon.k_anonymity(plain, list(qis))
    assert result.k_achieved == k_pycanon
    if len(frame) >= k:
        assert k_pycanon >= k
        assert result.satisfied
    for name in sensitive:
        assert result.l_diversity[name] == pycanon.l_diversity(plain, list(qis), [name])
    for name in frame.columns:
        if name not in qis:
            assert out[name].equals(frame[name])
            continue
        before, after = frame[name].to_numpy(), out[name].to_numpy()
        for code in REAL_MISSING:  # missing codes stay, or are suppressed; nothing else
            assert set(np.unique(after[before == code])) <= {code, SUPPRESSED}
            assert set(np.unique(before[after == code])) == (
                {code} if (after == code).any() else set()
            )
        assert not ((before >= 0) & (after < 0) & (after != SUPPRESSED)).any()
        assert result.suppressed_values[name] == int(
            ((after == SUPPRESSED) & (before != SUPPRESSED)).sum()
        )
    assert result.suppressed_total == sum(result.suppressed_values.values())
    classes = out.groupby(list(qis), sort=False).size() if qis else pd.Series([len(out)])
    assert result.classes == len(classes)
    assert result.k_achieved == int(classes.min())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [2, 5, 11])
def test_random_frames_are_k_anonymous_by_pycanon(seed, k):
    frame = random_frame(seed, rows=300 + 150 * seed)
    qis = hierarchies()
    result = anonymise(frame, qis, k=k, sensitive=["service", "outcome"])
    assert_honest(frame, result, qis, k, sensitive=["service", "outcome"])
    assert set(result.levels) == set(qis)
    assert all(0 <= result.levels[n] <= qis[n].height for n in qis)
    assert 0.0 <= result.information_loss <= 1.0
    if result.within_limit:
        assert result.suppressed_share <= 0.05


def test_generalised_codes_follow_the_chosen_levels():
    frame = random_frame(3, rows=800)
    qis = hierarchies()
    result = anonymise(frame, qis, k=5)
    for name, hierarchy in qis.items():
        level = result.levels[name]
        before, after = frame[name].to_numpy(), result.frame[name].to_numpy()
        kept = after != SUPPRESSED
        real = kept & (before >= 0)
        if level:
            mapping = hierarchy.levels[level]
            expected = np.array([mapping[int(c)] for c in before[real]])
        else:
            expected = before[real]
        assert np.array_equal(after[real], expected)
        assert np.array_equal(after[kept & (before < 0)], before[kept & (before < 0)])


def test_suppressed_appears_only_in_quasi_identifiers():
    frame = random_frame(4, rows=600)
    result = anonymise(frame, hierarchies(), k=11, sensitive=["service"])
    assert result.suppressed_total > 0
    for name in ("service", "outcome", "note_id"):
        assert not (result.frame[name] == SUPPRESSED).any()


def test_all_rows_identical():
    frame = pd.DataFrame({"a": np.full(30, 3, "int16"), "b": np.full(30, 1, "int16")})
    qis = {"a": Hierarchy(({}, flat([3]))), "b": Hierarchy.identity()}
    result = anonymise(frame, qis, k=11)
    assert_honest(frame, result, qis, 11)
    assert result.frame.equals(frame)
    assert result.levels == {"a": 0, "b": 0}
    assert result.k_achieved == 30
    assert result.classes == 1
    assert result.suppressed_total == 0
    assert result.information_loss == 0.0


def test_every_row_unique():
    rows = 200
    frame = pd.DataFrame({"id": np.arange(rows, dtype="int32"), "g": np.zeros(rows, "int16")})
    qis = {"id": Hierarchy.chain({i: i // 10 for i in range(rows)}, {i: i // 5 for i in range(20)})}
    result = anonymise(frame, qis, k=10, max_suppressed_share=0.0)
    assert_honest(frame, result, qis, 10)
    assert result.levels == {"id": 1}  # blocks of ten: the least generalisation that works
    assert result.suppressed_total == 0
    assert result.classes == 20


def test_one_quasi_identifier_with_suppression_only():
    frame = pd.DataFrame({"x": np.array([1] * 12 + [2] * 12 + [3, 4, 5], dtype="int16")})
    qis = {"x": Hierarchy.identity()}
    result = anonymise(frame, qis, k=3, max_suppressed_share=0.2)
    assert_honest(frame, result, qis, 3)
    assert result.suppressed_values == {"x": 3}
    assert result.frame["x"].tolist()[-3:] == [SUPPRESSED] * 3


def test_frame_smaller_than_k_is_all_suppressed_and_says_so():
    frame = pd.DataFrame(
        {
            "a": np.array([1, 2, UNKNOWN], dtype="int16"),
            "b": np.array([5, DECLINED, 6], dtype="int16"),
            "s": np.array([0, 1, 1], dtype="int16"),
        }
    )
    qis = {"a": Hierarchy.identity(), "b": Hierarchy(({}, flat([5, 6])))}
    result = anonymise(frame, qis, k=5, sensitive=["s"])
    assert_honest(frame, result, qis, 5, sensitive=["s"])
    assert (result.frame[["a", "b"]] == SUPPRESSED).all().all()
    assert result.k_achieved == 3 and not result.satisfied
    assert result.classes == 1
    assert result.l_diversity == {"s": 2}
    assert not result.within_limit
    assert result.frame["s"].equals(frame["s"])


def test_empty_frame():
    frame = pd.DataFrame({"a": np.array([], dtype="int16"), "s": np.array([], dtype="int16")})
    result = anonymise(frame, {"a": Hierarchy.identity()}, k=5, sensitive=["s"])
    assert result.empty
    assert result.frame.empty and list(result.frame.columns) == ["a", "s"]
    assert result.suppressed_total == 0 and result.classes == 0 and result.k_achieved == 0
    assert result.levels == {"a": 0}


def test_invalid_arguments():
    frame = random_frame(0, rows=50)
    with pytest.raises(ValueError):
        anonymise(frame, hierarchies(), k=1)
    with pytest.raises(ValueError):
        anonymise(frame, {"nope": Hierarchy.identity()}, k=5)
    with pytest.raises(ValueError):
        anonymise(frame, {"age": Hierarchy(({}, {0: 0}))}, k=5)  # codes 1..8 missing
    with pytest.raises(ValueError):
        anonymise(frame, {"age": Hierarchy(({}, {a: a % 2 for a in range(9)}, flat([0, 1, 2])))})
    not_nested = Hierarchy(({}, {a: a // 2 for a in range(9)}, {a: a % 2 for a in range(9)}))
    with pytest.raises(ValueError, match="coarsening"):
        anonymise(frame, {"age": not_nested}, k=5)


def test_numpy_lookup_levels_are_accepted():
    frame = random_frame(1, rows=400)
    as_dict = {"age": Hierarchy.chain({a: int(a >= 2) for a in range(9)}, flat(range(2)))}
    lookup = Hierarchy(({}, (np.arange(9) >= 2).astype(np.int64), np.zeros(9, np.int64)))
    a = anonymise(frame, as_dict, k=11)
    b = anonymise(frame, {"age": lookup}, k=11)
    assert a.levels == b.levels
    assert a.frame.equals(b.frame)


def test_generalisation_preferred_when_it_loses_less():
    # ten ages, three people each: every class is too small for k=5, but pairs of ages
    # (level 1) give classes of six. Suppressing everything would also be k-anonymous.
    frame = pd.DataFrame({"age": np.repeat(np.arange(10), 3).astype("int16")})
    qis = {
        "age": Hierarchy.chain(
            {a: a // 2 for a in range(10)}, {b: b // 5 for b in range(5)}, flat(range(2))
        )
    }
    result = anonymise(frame, qis, k=5, max_suppressed_share=1.0)
    assert_honest(frame, result, qis, 5)
    assert result.levels == {"age": 1}
    assert result.suppressed_total == 0
    assert result.information_loss == pytest.approx(1 / 3)


def test_suppression_preferred_when_a_few_outliers_would_force_a_column_up():
    rng = np.random.default_rng(5)
    rows = 1000
    frame = pd.DataFrame(
        {
            "country": rng.integers(0, 5, rows).astype("int16"),
            "sex": rng.integers(0, 2, rows).astype("int16"),
        }
    )
    outliers = list(range(10, 120, 10))  # eleven women from eleven rare countries
    frame.loc[outliers, "country"] = np.arange(40, 51, dtype="int16")
    frame.loc[outliers, "sex"] = np.int16(0)
    qis = {
        "country": Hierarchy.chain({c: int(c >= 20) for c in range(60)}, flat(range(2))),
        "sex": Hierarchy(({}, flat(range(2)))),
    }
    result = anonymise(frame, qis, k=11)
    assert_honest(frame, result, qis, 11)
    assert result.levels == {"country": 0, "sex": 0}
    assert result.suppressed_values == {"country": 11, "sex": 0}
    assert (result.frame.loc[outliers, "country"] == SUPPRESSED).all()
    assert result.frame.drop(index=outliers).equals(frame.drop(index=outliers))
    assert result.information_loss == pytest.approx(11 / 2000)


def test_a_lone_outlier_gets_partners_rather_than_staying_unique():
    # one record cannot be hidden by suppressing its own values only: SUPPRESSED is an
    # ordinary value to a checker, so k-1 other records must be suppressed alongside it
    frame = pd.DataFrame({"age": np.repeat(np.arange(10), 3).astype("int16")})
    frame.loc[30] = np.int16(20)
    qis = {"age": Hierarchy.identity()}
    result = anonymise(frame, qis, k=3, max_suppressed_share=1.0)
    assert_honest(frame, result, qis, 3)
    assert result.suppressed_values == {"age": 4}  # the outlier and a whole class of three
    assert result.frame["age"].tolist()[-1] == SUPPRESSED


def test_a_small_class_is_completed_by_a_few_donors_rather_than_suppressed_further():
    a = np.r_[np.full(20, 1), np.full(20, 2), np.full(20, 3), np.full(4, 9)].astype("int16")
    frame = pd.DataFrame({"a": a, "b": np.zeros(64, dtype="int16")})
    qis = {"a": Hierarchy.identity(), "b": Hierarchy.identity()}
    result = anonymise(frame, qis, k=5, max_suppressed_share=0.5)
    assert_honest(frame, result, qis, 5)
    # the four 9s lose their value; one more record joins them (the alternative, suppressing
    # b as well, would still leave a class of four and cost twice as many values)
    assert result.suppressed_values == {"a": 5, "b": 0}
    assert (result.frame["a"].iloc[-4:] == SUPPRESSED).all()
    assert result.frame.groupby(["a", "b"]).size().min() == 5


def test_suppression_limit_forces_generalisation():
    frame = pd.DataFrame({"age": np.r_[np.repeat(np.arange(10), 3), [20, 21, 22]]})
    frame["age"] = frame["age"].astype("int16")
    qis = {"age": Hierarchy.chain({a: a // 10 for a in range(30)}, flat(range(3)))}
    loose = anonymise(frame, qis, k=3, max_suppressed_share=0.1)
    assert_honest(frame, loose, qis, 3)
    assert loose.levels == {"age": 0} and loose.suppressed_total == 3
    strict = anonymise(frame, qis, k=3, max_suppressed_share=0.0)
    assert_honest(frame, strict, qis, 3)
    assert strict.levels == {"age": 1} and strict.suppressed_total == 0
    assert strict.information_loss == pytest.approx(0.5)


def test_weights_steer_the_choice():
    rng = np.random.default_rng(2)
    rows = 400
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, 20, rows).astype("int16"),
            "b": rng.integers(0, 20, rows).astype("int16"),
        }
    )
    qis = {
        "a": Hierarchy.chain({x: x // 10 for x in range(20)}),
        "b": Hierarchy.chain({x: x // 10 for x in range(20)}),
    }
    keep_a = anonymise(frame, qis, k=5, weights={"a": 10.0, "b": 1.0})
    keep_b = anonymise(frame, qis, k=5, weights={"a": 1.0, "b": 10.0})
    assert_honest(frame, keep_a, qis, 5)
    assert_honest(frame, keep_b, qis, 5)
    assert keep_a.levels == {"a": 0, "b": 1}
    assert keep_b.levels == {"a": 1, "b": 0}


def test_missing_patterns_without_partners_are_suppressed_not_relabelled():
    frame = random_frame(7, rows=500)
    frame.loc[1000:1003, "age"] = np.int16(DECLINED)  # a rare pattern of missing codes
    frame.loc[1000:1003, "citizenship"] = np.int32(UNKNOWN)
    qis = hierarchies()
    result = anonymise(frame, qis, k=11)
    assert_honest(frame, result, qis, 11)


def test_deterministic():
    frame = random_frame(9, rows=1500)
    qis = hierarchies()
    first = anonymise(frame, qis, k=7, sensitive=["service"])
    second = anonymise(frame.copy(), hierarchies(), k=7, sensitive=["service"])
    assert np.array_equal(
        pd.util.hash_pandas_object(first.frame).to_numpy(),
        pd.util.hash_pandas_object(second.frame).to_numpy(),
    )
    assert first.levels == second.levels
    assert first.suppressed_values == second.suppressed_values
    assert first.information_loss == second.information_loss


def test_input_is_not_modified():
    frame = random_frame(2, rows=400)
    copy = frame.copy()
    anonymise(frame, hierarchies(), k=11)
    assert frame.equals(copy)


def brute_force_loss(frame, qis, k, share):
    """Least loss over every lattice node: generalise the frame to the node, then let
    anonymise only suppress (identity hierarchies), and price the cells as the module does."""
    best = None
    names = list(qis)
    for node in itertools.product(*[range(h.height + 1) for h in qis.values()]):
        generalised = frame.copy()
        for name, level in zip(names, node, strict=True):
            if level:
                column = generalised[name].to_numpy()
                mapping = qis[name].levels[level]
                mapped = np.array([mapping[int(c)] if c >= 0 else c for c in column])
                generalised[name] = mapped.astype(column.dtype)
        result = anonymise(
            generalised,
            {name: Hierarchy.identity() for name in names},
            k=k,
            max_suppressed_share=share,
        )
        if not result.within_limit:
            continue
        cells = 0.0
        for name, level in zip(names, node, strict=True):
            out = result.frame[name].to_numpy()
            height = qis[name].height
            cells += (out >= 0).sum() * (level / height if height else 0.0)
            cells += (out == SUPPRESSED).sum()
        loss = cells / (len(frame) * len(names))
        if best is None or loss < best[0] - 1e-12:
            best = (loss, node)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_search_finds_the_least_loss_over_the_whole_lattice(seed):
    frame = random_frame(seed, rows=250)[["age", "citizenship", "year", "sex"]]
    qis = {name: h for name, h in hierarchies().items() if name in frame.columns}
    share = [0.02, 0.05, 0.1, 0.2, 0.05][seed]
    result = anonymise(frame, qis, k=5, max_suppressed_share=share)
    assert_honest(frame, result, qis, 5)
    expected = brute_force_loss(frame, qis, 5, share)
    assert result.within_limit and expected is not None
    assert result.information_loss <= expected[0] + 1e-9
