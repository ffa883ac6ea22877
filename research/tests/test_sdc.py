"""The disclosure engine (research.sdc): tables, suppression, the attacker's LPs, exports.

Plain pytest, no database. The audit is checked on tables whose intervals are known by
hand; the protection on random tables (hypothesis) of one to four dimensions, some with a
hierarchy, both on the exact path and on the decomposition used for large tables.
"""

import importlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.sdc import (
    PRIMARY,
    PUBLISHED,
    ROUNDING,
    SECONDARY,
    audit,
    build_table,
    make_dimension,
    primary_cells,
    protect,
    protection_levels,
    round_table,
    subtables,
    table_from_counts,
    to_csv,
    to_dict,
    to_json,
)

audit_module = importlib.import_module("research.sdc.audit")


def two_by_two(a=1, b=20, c=30, d=40):
    rows = make_dimension("r", ["a", "b"])
    cols = make_dimension("c", ["u", "v"])
    return table_from_counts(
        [rows, cols], {("a", "u"): a, ("a", "v"): b, ("b", "u"): c, ("b", "v"): d}
    )


def status_of(table, suppressed: dict) -> np.ndarray:
    status = np.zeros(table.n_cells, dtype=np.int8)
    for cell, flag in suppressed.items():
        status[table.index(cell)] = flag
    return status


def levels(table, status, width=10):
    return protection_levels(table.counts, status == PRIMARY, width)


# --------------------------------------------------------------------------- tables


def test_table_has_margins_subtotals_and_relations():
    df = pd.DataFrame(
        {
            "country": ["UA", "UA", "MD", "NG", None, "VN"],
            "year": [2023, 2024, 2024, 2024, 2023, np.nan],
        }
    )
    hierarchy = {"UA": "Europe", "MD": "Europe", "NG": "Africa", "VN": "Asia", "TH": "Asia"}
    table = build_table(df, "country", "year", hierarchies={"country": hierarchy})
    country, year = table.dims
    assert country.labels[0] == "Total" and year.labels[0] == "Total"
    assert set(country.labels) == {
        "Total", "Africa", "Asia", "Europe", "MD", "UA", "NG", "VN", "TH", "Missing"
    }  # fmt: skip
    assert year.labels == ("Total", "2023", "2024", "Missing")
    assert table.count(("Total", "Total")) == 6
    assert table.count(("Europe", "Total")) == 3
    assert table.count(("Europe", "2024")) == 2
    assert table.count(("Missing", "2023")) == 1
    assert table.count(("VN", "Missing")) == 1
    assert table.count(("TH", "Total")) == 0  # a hierarchy leaf absent from the data
    assert table.count(("Asia", "Missing")) == 1
    assert not np.any(table.relations @ table.counts)
    # Region Europe = MD + UA, for each year label (Total included): 4 relations.
    parent = table.index(("Europe", "2024"))
    row = np.flatnonzero(table.relations[:, parent].toarray().ravel() == 1)
    assert len(row) == 1
    members = table.relations[row[0]].toarray().ravel()
    assert {table.cell(i) for i in np.flatnonzero(members == -1)} == {
        ("MD", "2024"),
        ("UA", "2024"),
    }


def test_reserved_total_and_parent_codes_in_data_are_refused():
    with pytest.raises(ValueError):
        build_table(pd.DataFrame({"x": ["Total", "a"]}), "x")
    with pytest.raises(ValueError):
        build_table(pd.DataFrame({"x": ["a", "P"]}), "x", hierarchies={"x": {"a": "P"}})
    with pytest.raises(ValueError):
        make_dimension("x", ["a"], {"a": "b", "b": "a"})


# --------------------------------------------------------------------------- audit by hand


def test_two_by_two_needs_three_complements_and_interval_by_hand():
    table = two_by_two()
    result = protect(table)
    interior = [("a", "u"), ("a", "v"), ("b", "u"), ("b", "v")]
    assert [result.flag(c) for c in interior] == ["x", "s", "s", "s"]
    margins = [c for c in table.cells() if "Total" in c]
    assert all(result.flag(c) == "" for c in margins)
    aud = result.audit
    assert aud.passed
    # x_au + x_av = 21, x_bu + x_bv = 70, x_au + x_bu = 31, x_av + x_bv = 60:
    # x_au = 21 - x_av, x_av <= 60, x_bu = 31 - x_au >= 0, x_bv = 39 + x_au <= 70.
    assert aud.interval(table.index(("a", "u"))) == (0.0, 21.0)  # min(row 21, column 31)
    assert aud.interval(table.index(("a", "v"))) == (0.0, 21.0)
    assert aud.interval(table.index(("b", "u"))) == (10.0, 31.0)
    assert aud.interval(table.index(("b", "v"))) == (39.0, 60.0)
    # The reference path (a fresh linprog per bound) agrees.
    slow = audit(
        table.relations, table.counts, result.status, result.lower, result.upper, engine="linprog"
    )
    np.testing.assert_array_equal(slow.lower, aud.lower)
    np.testing.assert_array_equal(slow.upper, aud.upper)


def test_margin_pins_a_cell():
    table = two_by_two(a=5, b=20, c=30, d=40)
    # Suppressing only the column partner leaves row a: 25 = x_au + 20 (published).
    status = status_of(table, {("a", "u"): PRIMARY, ("b", "u"): SECONDARY})
    aud = audit(table.relations, table.counts, status, *levels(table, status))
    assert aud.interval(table.index(("a", "u"))) == (5.0, 5.0)
    assert aud.interval(table.index(("b", "u"))) == (30.0, 30.0)
    assert not aud.passed and aud.failures == [table.index(("a", "u"))]
    # The engine never publishes such a pattern.
    result = protect(table)
    assert result.audit.passed
    lo, hi = result.audit.interval(table.index(("a", "u")))
    assert lo <= 0 and hi >= 10 and hi - lo >= 10


def test_zero_cells_move_only_upwards():
    # Row a: 3, 0 | 12 ... a zero partner can take the small cell's persons, not give any.
    dims = [make_dimension("x", ["A", "B", "C"])]
    table = table_from_counts(dims, {("A",): 3, ("B",): 0, ("C",): 50})
    status = status_of(table, {("A",): PRIMARY, ("B",): SECONDARY})
    aud = audit(table.relations, table.counts, status, *levels(table, status))
    assert aud.interval(table.index(("A",))) == (0.0, 3.0)  # A + B = 3
    assert not aud.passed  # upper protection: A cannot reach 3 + 7


def test_one_dimensional_table_with_total():
    dims = [make_dimension("x", ["A", "B", "C"])]
    table = table_from_counts(dims, {("A",): 3, ("B",): 0, ("C",): 50})
    result = protect(table)
    assert result.audit.passed
    assert [result.flag((k,)) for k in ("Total", "A", "B", "C")] == ["", "x", "", "s"]
    assert result.suppressed.sum() >= 2
    assert result.audit.interval(table.index(("A",))) == (0.0, 53.0)
    # The cheapest partner is taken: C (40) rather than B (50).
    table = table_from_counts(dims, {("A",): 3, ("B",): 50, ("C",): 40})
    result = protect(table)
    assert [result.flag((k,)) for k in ("Total", "A", "B", "C")] == ["", "x", "", "s"]
    assert result.audit.interval(table.index(("A",))) == (0.0, 43.0)


def test_protection_levels_give_the_width():
    counts = np.array([1, 4, 5, 9, 30])
    lo, hi = protection_levels(counts, np.ones(5, dtype=bool), 10)
    assert list(lo) == [1, 4, 5, 5, 5]
    assert list(lo + hi) == [10] * 5


def test_lone_cell_in_a_line_forces_a_margin():
    # Row a has a single non-empty cell: only the row total (or a zero cell's upward move)
    # can protect it; the engine must still find a valid pattern.
    table = two_by_two(a=4, b=0, c=30, d=40)
    result = protect(table)
    assert result.audit.passed


def test_integer_and_linear_bounds_agree_on_a_two_dimensional_table():
    table = two_by_two(a=2, b=7, c=30, d=40)
    result = protect(table)
    exact = audit(
        table.relations, table.counts, result.status, result.lower, result.upper, integer=True
    )
    np.testing.assert_array_equal(exact.lower, result.audit.lower)
    np.testing.assert_array_equal(exact.upper, result.audit.upper)


# --------------------------------------------------------------------------- group disclosure


def test_group_disclosure_line_is_primary_and_protected():
    rng = np.random.default_rng(0)
    rows = []
    for region, n in (("North", 60), ("South", 55), ("East", 40)):
        rows += [(region, rng.choice(["home", "shelter", "other"])) for _ in range(n)]
    rows += [("West", "shelter")] * 25  # all 25 persons of West share one outcome
    df = pd.DataFrame(rows, columns=["region", "outcome"])
    table = build_table(df, "region", "outcome")
    assert not primary_cells(table, 10)[table.index(("West", "shelter"))]
    result = protect(table, sensitive="outcome")
    west = table.index(("West", "shelter"))
    assert result.status[west] == PRIMARY
    assert result.audit.passed
    lo, hi = result.audit.interval(west)
    assert lo <= 25 - 5 and hi >= 25 + 5  # the attacker cannot tell that all 25 share it


# --------------------------------------------------------------------------- properties


@st.composite
def random_tables(draw):
    ndim = draw(st.integers(1, 4))
    max_size = {1: 6, 2: 4, 3: 3, 4: 2}[ndim]
    dims = []
    for d in range(ndim):
        size = draw(st.integers(1, max_size))
        codes = [f"{chr(97 + d)}{i}" for i in range(size)]
        hierarchy = None
        if size >= 3 and draw(st.booleans()):
            hierarchy = {c: ("P" if i < size // 2 + 1 else "Q") for i, c in enumerate(codes)}
        dims.append(make_dimension(f"v{d}", codes, hierarchy))
    leaves = [[lab for lab, leaf in zip(d.labels, d.is_leaf, strict=True) if leaf] for d in dims]
    cells = list(np.array(np.meshgrid(*leaves, indexing="ij")).reshape(ndim, -1).T)
    values = draw(
        st.lists(
            st.sampled_from([0, 0, 1, 2, 3, 5, 8, 9, 10, 12, 15, 25, 40, 80]),
            min_size=len(cells),
            max_size=len(cells),
        )
    )
    table = table_from_counts(dims, {tuple(c): v for c, v in zip(cells, values, strict=True)})
    return table


def check_protected(result, width):
    table = result.table
    aud = result.audit
    assert aud.passed, aud.failures
    for i in np.flatnonzero(result.status == PRIMARY):
        lo, hi = aud.interval(i)
        assert hi - lo >= width
        assert lo <= table.counts[i] - result.lower[i] and hi >= table.counts[i] + result.upper[i]
    # No published total disagrees with its published parts.
    A = table.relations.tocsr()
    published = result.status == PUBLISHED
    for r in range(A.shape[0]):
        cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
        if published[cols].all():
            vals = A.data[A.indptr[r] : A.indptr[r + 1]]
            assert vals @ result.published[cols] == 0
    # No suppressed count in the export.
    frame = pd.read_csv(io.StringIO(to_csv(result)), dtype=str, keep_default_na=False)
    assert (frame["count"][frame["flag"] != ""] == "").all()
    assert (frame["count"][frame["flag"] == ""] != "").all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_tables(), st.sampled_from([5, 10]))
def test_random_tables_are_protected(table, threshold):
    result = protect(table, threshold)
    check_protected(result, threshold)
    # Deterministic: the same input gives the same pattern.
    again = protect(table, threshold)
    assert to_csv(again) == to_csv(result)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_tables())
def test_random_tables_are_protected_by_the_decomposition(table):
    result = protect(table, 10, exact_limit=0)  # force the large-table path
    check_protected(result, 10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_tables())
def test_fast_audit_matches_linprog(table):
    result = protect(table, 10)
    slow = audit(
        table.relations, table.counts, result.status, result.lower, result.upper, engine="linprog"
    )
    np.testing.assert_array_equal(slow.lower, result.audit.lower)
    np.testing.assert_array_equal(slow.upper, result.audit.upper)


# --------------------------------------------------------------------------- larger tables


def skewed_frame(n=4000, seed=5):
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, 31, dtype=float)
    p = ranks**-1.2
    country = rng.choice(30, n, p=p / p.sum())
    return pd.DataFrame(
        {
            "year": rng.choice([2021, 2022, 2023, 2024], n),
            "country": [f"C{c:02d}" for c in country],
            "type": rng.choice(["labour", "sexual", "other", None], n, p=[0.5, 0.3, 0.15, 0.05]),
        }
    ), {f"C{c:02d}": f"R{c % 4}" for c in range(30)}


def test_decomposition_on_a_hierarchical_three_dimensional_table():
    df, hierarchy = skewed_frame()
    table = build_table(df, ["year", "country"], "type", hierarchies={"country": hierarchy})
    assert table.shape == (5, 35, 5)
    assert len(subtables(table)) == 5  # total -> regions, and one per region
    result = protect(table, 10, exact_limit=100)
    check_protected(result, 10)
    assert result.n_secondary > 0
    # Totals are suppressed only when nothing else works: the grand total never is here.
    assert result.flag(("Total", "Total", "Total")) == ""
    # Same microdata in another order: same pattern, byte for byte.
    shuffled = df.sample(frac=1.0, random_state=1).reset_index(drop=True)
    table2 = build_table(shuffled, ["year", "country"], "type", hierarchies={"country": hierarchy})
    assert to_csv(protect(table2, 10, exact_limit=100)) == to_csv(result)


# --------------------------------------------------------------------------- exports


def test_csv_json_and_public_forms():
    table = two_by_two()
    result = protect(table)
    text = to_csv(result)
    lines = text.splitlines()
    assert lines[0] == "r,c,count,flag"
    assert "a,u,,x" in lines and "a,v,,s" in lines and "Total,Total,91," in lines
    public = to_csv(result, public=True)
    assert "a,u,,x" in public and "a,v,,x" in public and ",s" not in public
    data = json.loads(to_json(result))
    assert data["method"] == "cell suppression" and data["threshold"] == 10
    assert data["audit"]["passed"] is True
    au = next(c for c in data["cells"] if c["cell"] == {"r": "a", "c": "u"})
    assert au == {"cell": {"r": "a", "c": "u"}, "count": None, "flag": "x", "interval": [0, 21]}
    pub = to_dict(result, public=True)
    assert "audit" not in pub
    assert all("interval" not in c and c["flag"] in ("", "x") for c in pub["cells"])


def test_rounding_ten_five():
    dims = [make_dimension("x", ["A", "B", "C", "D"])]
    table = table_from_counts(dims, {("A",): 3, ("B",): 12, ("C",): 13, ("D",): 0})
    result = round_table(table)
    assert result.method == ROUNDING
    frame = pd.read_csv(io.StringIO(to_csv(result)), dtype=str, keep_default_na=False)
    assert frame.values.tolist() == [
        ["Total", "30", ""],
        ["A", "", "x"],
        ["B", "10", ""],
        ["C", "15", ""],
        ["D", "0", ""],
    ]
    assert json.loads(to_json(result))["method"] == ROUNDING


# --------------------------------------------------------------------------- big components


def _proof_and_exact(monkeypatch, status, table, result, workers):
    exact = audit(
        table.relations, table.counts, status, result.lower, result.upper, exact=True, workers=1
    )
    monkeypatch.setattr(audit_module, "EXACT_UPTO", 5)  # every component counts as big
    proof = audit(
        table.relations, table.counts, status, result.lower, result.upper, workers=workers
    )
    return proof, exact


@pytest.mark.parametrize("workers", [1, 2])
def test_protection_proof_brackets_the_exact_intervals(monkeypatch, workers):
    df, hierarchy = skewed_frame()
    table = build_table(df, ["year", "country"], "type", hierarchies={"country": hierarchy})
    result = protect(table, 10, exact_limit=100, run_audit=False)
    proof, exact = _proof_and_exact(monkeypatch, result.status, table, result, workers)
    supp = result.status != PUBLISHED
    assert exact.passed and exact.bracketed == 0 and exact.exact[supp].all()
    assert proof.passed
    assert 0 < proof.bracketed < supp.sum()  # some intervals proven exact, some bracketed
    lo, hi = exact.lower[supp], exact.upper[supp]
    assert (proof.lower[supp] >= lo).all() and (proof.upper[supp] <= hi).all()
    assert (proof.outer_lower[supp] <= lo).all() and (proof.outer_upper[supp] >= hi).all()
    assert (proof.lower[supp] <= proof.upper[supp]).all()
    known = supp & proof.exact
    np.testing.assert_array_equal(proof.lower[known], exact.lower[known])
    np.testing.assert_array_equal(proof.upper[known], exact.upper[known])
    # Every primary cell's requirement is met by the bracket alone.
    primary = result.status == PRIMARY
    counts = table.counts[primary]
    assert (proof.lower[primary] <= counts - result.lower[primary]).all()
    assert (proof.upper[primary] >= counts + result.upper[primary]).all()
    # The JSON form says which intervals are brackets, and gives their outer bounds.
    result.audit = proof
    entries = [c for c in to_dict(result)["cells"] if c.get("interval_exact") is False]
    assert len(entries) == proof.bracketed
    assert all(e["interval_outer"][0] <= e["interval"][0] for e in entries)


def test_protection_proof_finds_the_same_failures_as_the_exact_audit(monkeypatch):
    df, hierarchy = skewed_frame()
    table = build_table(df, ["year", "country"], "type", hierarchies={"country": hierarchy})
    result = protect(table, 10, exact_limit=100, run_audit=False)
    weakened = result.status.copy()
    weakened[np.flatnonzero(weakened == SECONDARY)[::2]] = PUBLISHED
    proof, exact = _proof_and_exact(monkeypatch, weakened, table, result, 1)
    assert exact.failures  # the weakened pattern leaves primary cells exposed
    assert proof.failures == exact.failures
    for i in exact.failures:  # the side that fails was solved exactly
        if exact.lower[i] > table.counts[i] - result.lower[i]:
            assert proof.lower[i] == exact.lower[i]
        else:
            assert proof.upper[i] == exact.upper[i]
