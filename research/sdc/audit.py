"""The attacker's linear programs: the feasible interval of every suppressed cell.

For a suppressed cell the attacker knows every published count, every additive relation of
the table (parent = sum of children, along each dimension) and that counts are
non-negative. The smallest and largest values the cell can take under those constraints
are two linear programs, solved here with HiGHS (through SciPy).

Only the suppressed cells are unknowns: a relation becomes ``sum of its suppressed cells
(with signs) = a constant`` made of published counts, and relations without suppressed
cells drop out. The unknowns split into connected components (two suppressed cells are
linked when they share a relation) and each component is solved on its own, on one HiGHS
model reused for all its cells; components beyond ``EXACT_UPTO`` cells go to two processes.
Constraint propagation over the relations gives outer bounds on every cell, and any
feasible table (the true one, or the solution of any LP) that reaches a cell's outer bound
proves it exact.

* Components up to ``EXACT_UPTO`` cells (every table the product publishes in practice),
  or every component with ``exact=True``, get exact intervals: batch LPs (one objective
  pushing a set of cells that share no relation) prove what they can, and every other
  bound gets its own LP, warm-started with primal simplex from the last basis.
* Bigger components first prove each primary cell's protection: capped batch LPs push
  every primary cell not yet seen far enough towards its requirement at once (its bound
  set to the requirement, so that one cell does not starve the others); every solution
  is a feasible table, a witness for all cells. A cell the batches cannot prove gets its
  own LP, which decides it exactly, so a failure is always exact. The other intervals are
  inner brackets: values every attacker must still admit, contained in the true interval
  (``AuditResult.exact`` is False there, and the outer bounds are kept too). Exact LPs for
  every cell of a component of 18,000 cells cost about a tenth of a second each, which
  on a ~100,000-cell table is what made the exact audit take over 20 minutes.

Integrality: the bounds are those of the linear relaxation, rounded inwards to integers
(``ceil`` of the minimum, ``floor`` of the maximum). For one- and two-dimensional tables
with hierarchies the constraint matrix is totally unimodular, so these are the exact
integer bounds. For three or more dimensions the integer bounds can be tighter than the
relaxation (the attacker would need an integer program); ``integer=True`` solves integer
programs instead (``scipy.optimize.milp``), which is affordable only for small tables.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import LinearConstraint as _LinearConstraint
from scipy.optimize import linprog, milp
from scipy.sparse.csgraph import connected_components

try:  # SciPy's own build of HiGHS, with the model kept between solves (warm starts)
    from scipy.optimize._highspy import _core as _hcore
except ImportError:  # pragma: no cover - older or newer SciPy: fall back to linprog
    _hcore = None

PUBLISHED, PRIMARY, SECONDARY = 0, 1, 2
TOL = 1e-6
INF = math.inf


class LPModel:
    """min c.x subject to row_lo <= A x <= row_hi, col_lo <= x <= col_hi, kept between solves.

    With SciPy's bundled HiGHS object the model stays loaded and each solve warm-starts from
    the last basis; otherwise (``engine="linprog"``) every solve is a fresh
    ``scipy.optimize.linprog(method="highs")`` call. Both give the same optima.
    """

    def __init__(self, A, row_lo, row_hi, col_lo, col_hi, cost, engine: str = "auto", primal=False):
        A = sp.csc_matrix(A, dtype=np.float64)
        self.n = A.shape[1]
        self.m = A.shape[0]
        self.A = A
        self.row_lo = np.asarray(row_lo, dtype=np.float64).copy()
        self.row_hi = np.asarray(row_hi, dtype=np.float64).copy()
        self.col_lo = np.asarray(col_lo, dtype=np.float64).copy()
        self.col_hi = np.asarray(col_hi, dtype=np.float64).copy()
        self.cost = np.asarray(cost, dtype=np.float64).copy()
        if engine == "auto":
            engine = "highs" if _hcore is not None else "linprog"
        self.engine = engine
        self.solves = 0
        if engine == "highs":
            h = _hcore._Highs()
            h.setOptionValue("output_flag", False)
            # With ``primal``, after the first solve only the objective changes between
            # solves: the last basis stays primal feasible, so primal simplex needs a few
            # iterations where dual simplex needs many. The first solve uses the defaults.
            self._primal_pending = primal
            lp = _hcore.HighsLp()
            lp.num_col_ = self.n
            lp.num_row_ = self.m
            lp.col_cost_ = self.cost
            lp.col_lower_ = self.col_lo
            lp.col_upper_ = np.where(np.isinf(self.col_hi), _hcore.kHighsInf, self.col_hi)
            lp.row_lower_ = np.where(np.isinf(self.row_lo), -_hcore.kHighsInf, self.row_lo)
            lp.row_upper_ = np.where(np.isinf(self.row_hi), _hcore.kHighsInf, self.row_hi)
            lp.a_matrix_.format_ = _hcore.MatrixFormat.kColwise
            lp.a_matrix_.start_ = A.indptr.astype(np.int32)
            lp.a_matrix_.index_ = A.indices.astype(np.int32)
            lp.a_matrix_.value_ = A.data
            lp.a_matrix_.num_col_ = self.n
            lp.a_matrix_.num_row_ = self.m
            h.passModel(lp)
            self._h = h
        elif engine != "linprog":
            raise ValueError(f"unknown LP engine {engine!r}")

    def set_cost(self, cols, values) -> None:
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int32))
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), cols.shape)
        if not cols.size:
            return
        self.cost[cols] = values
        if self.engine == "highs":
            self._h.changeColsCost(cols.size, cols, np.ascontiguousarray(values))

    def set_bounds(self, cols, lo, hi) -> None:
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int32))
        lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), cols.shape)
        hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), cols.shape)
        if not cols.size:
            return
        self.col_lo[cols] = lo
        self.col_hi[cols] = hi
        if self.engine == "highs":
            hh = np.where(np.isinf(hi), _hcore.kHighsInf, hi)
            self._h.changeColsBounds(cols.size, cols, np.ascontiguousarray(lo), hh)

    def reset(self, *, primal: bool = False) -> None:
        """Forget the last basis: the next solve starts from scratch (with presolve), and
        with ``primal`` the solves after it warm-start with primal simplex."""
        if self.engine == "highs":
            self._h.clearSolver()
            self._h.setOptionValue("presolve", "choose")
            self._h.setOptionValue("simplex_strategy", 1)
            self._primal_pending = primal

    def solve(self) -> tuple[str, float, np.ndarray | None]:
        """Return (status, objective, x) with status "optimal", "infeasible" or "unbounded"."""
        self.solves += 1
        if self.engine == "highs":
            h = self._h
            h.run()
            if self._primal_pending:
                h.setOptionValue("presolve", "off")
                h.setOptionValue("simplex_strategy", 4)
                self._primal_pending = False
            status = h.getModelStatus()
            if status == _hcore.HighsModelStatus.kOptimal:
                x = np.asarray(h.getSolution().col_value)
                return "optimal", float(h.getInfo().objective_function_value), x
            if status == _hcore.HighsModelStatus.kInfeasible:
                return "infeasible", INF, None
            if status in (
                _hcore.HighsModelStatus.kUnbounded,
                _hcore.HighsModelStatus.kUnboundedOrInfeasible,
            ):
                # Our models always have a feasible point when they are unbounded (the
                # audit's true table, the repair's zero move is excluded by its bounds, so
                # check by solving the feasibility problem).
                return self._unbounded_or_infeasible()
            # Any other status (time limit, numerical trouble): retry from scratch once.
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
            if status == _hcore.HighsModelStatus.kOptimal:
                x = np.asarray(h.getSolution().col_value)
                return "optimal", float(h.getInfo().objective_function_value), x
            return self._linprog()
        return self._linprog()

    def _unbounded_or_infeasible(self) -> tuple[str, float, np.ndarray | None]:
        status, _, x = _run_linprog(
            np.zeros(self.n), self.A, self.row_lo, self.row_hi, self.col_lo, self.col_hi
        )
        if status == "infeasible":
            return "infeasible", INF, None
        return "unbounded", -INF, x

    def _linprog(self) -> tuple[str, float, np.ndarray | None]:
        return _run_linprog(self.cost, self.A, self.row_lo, self.row_hi, self.col_lo, self.col_hi)


def _run_linprog(cost, A, row_lo, row_hi, col_lo, col_hi):
    eq = row_lo == row_hi
    A = sp.csr_matrix(A)
    kwargs: dict = {}
    if eq.any():
        kwargs["A_eq"] = A[eq]
        kwargs["b_eq"] = row_lo[eq]
    ub_parts, b_parts = [], []
    hi_rows = ~eq & np.isfinite(row_hi)
    lo_rows = ~eq & np.isfinite(row_lo)
    if hi_rows.any():
        ub_parts.append(A[hi_rows])
        b_parts.append(row_hi[hi_rows])
    if lo_rows.any():
        ub_parts.append(-A[lo_rows])
        b_parts.append(-row_lo[lo_rows])
    if ub_parts:
        kwargs["A_ub"] = sp.vstack(ub_parts)
        kwargs["b_ub"] = np.concatenate(b_parts)
    bounds = np.column_stack([col_lo, np.where(np.isinf(col_hi), np.nan, col_hi)])
    bounds = [(lo, None if np.isnan(hi) else hi) for lo, hi in bounds]
    res = linprog(cost, bounds=bounds, method="highs", **kwargs)
    if res.status == 0:
        return "optimal", float(res.fun), np.asarray(res.x)
    if res.status == 2:
        return "infeasible", INF, None
    if res.status == 3:
        return "unbounded", -INF, None
    raise RuntimeError(f"linprog failed: {res.message}")


@dataclass
class AuditResult:
    """The attacker's interval of every suppressed cell and whether the table passes.

    ``lower``/``upper`` are per cell (NaN for published cells; ``inf`` when nothing bounds
    the cell from above). ``required_lower``/``required_upper`` are the protection levels:
    a target cell with value a passes when ``lower <= a - required_lower`` and
    ``upper >= a + required_upper`` (so its interval is at least their sum wide).
    ``failures`` lists the primary cells that do not pass. ``exact`` per cell: the interval
    is the attacker's exact one (else an inner bracket of it, see ``audit``);
    ``outer_lower``/``outer_upper``: propagated bounds that contain it.
    """

    lower: np.ndarray
    upper: np.ndarray
    required_lower: np.ndarray
    required_upper: np.ndarray
    status: np.ndarray
    counts: np.ndarray
    failures: list[int] = field(default_factory=list)
    lp_solves: int = 0
    components: int = 0
    largest_component: int = 0
    seconds: float = 0.0
    integer: bool = False
    exact: np.ndarray | None = None  # per cell: the interval is exact (else an inner bracket)
    outer_lower: np.ndarray | None = None  # per cell: propagated bounds every attacker obeys
    outer_upper: np.ndarray | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    def interval(self, i: int) -> tuple[float, float] | None:
        if self.status[i] == PUBLISHED:
            return None
        return float(self.lower[i]), float(self.upper[i])

    def rounded_interval(self, i: int, *, outer: bool = False) -> list[int | None]:
        """[min, max] of cell i as integers (None for an unbounded max); with ``outer``,
        the propagated outer bounds instead."""
        lo, hi = (self.outer_lower, self.outer_upper) if outer else (self.lower, self.upper)
        return [_whole(lo[i]), _whole(hi[i])]

    def width(self, i: int) -> float:
        return float(self.upper[i] - self.lower[i])

    @property
    def bracketed(self) -> int:
        """Suppressed cells whose interval is an inner bracket rather than exact."""
        if self.exact is None:
            return 0
        return int(((self.status != PUBLISHED) & ~self.exact).sum())

    def is_exact(self, i: int) -> bool:
        return self.exact is None or bool(self.exact[i])

    def summary(self) -> dict:
        supp = self.status != PUBLISHED
        return {
            "passed": self.passed,
            "suppressed": int(supp.sum()),
            "primary": int((self.status == PRIMARY).sum()),
            "secondary": int((self.status == SECONDARY).sum()),
            "failures": len(self.failures),
            "lp_solves": self.lp_solves,
            "components": self.components,
            "largest_component": self.largest_component,
            "seconds": round(self.seconds, 3),
            "integer": self.integer,
            "bracketed": self.bracketed,
        }


def _whole(x: float) -> int | None:
    return None if not np.isfinite(x) else int(round(x))


def attacker_system(A: sp.spmatrix, counts: np.ndarray, suppressed: np.ndarray):
    """(rows of A restricted to suppressed cells, right-hand sides, indices of those cells).

    Relations without a suppressed cell are dropped.
    """
    A = sp.csr_matrix(A)
    supp = np.flatnonzero(suppressed)
    pub = np.flatnonzero(~suppressed)
    As = sp.csr_matrix(A[:, supp])
    rhs = -(A[:, pub] @ counts[pub].astype(np.float64))
    keep = np.flatnonzero(np.diff(As.indptr) > 0)
    return As[keep], rhs[keep], supp, keep


def a_priori_upper(A: sp.spmatrix, counts: np.ndarray, suppressed: np.ndarray) -> np.ndarray:
    """Per cell: the smallest published parent it is a child of (inf if none)."""
    A = sp.coo_matrix(A)
    n = counts.size
    ub = np.full(n, INF)
    parent_of_row = np.full(A.shape[0], -1, dtype=np.int64)
    plus = A.data > 0
    parent_of_row[A.row[plus]] = A.col[plus]
    minus = ~plus
    child, row = A.col[minus], A.row[minus]
    par = parent_of_row[row]
    ok = (par >= 0) & ~suppressed[np.maximum(par, 0)]
    np.minimum.at(ub, child[ok], counts[par[ok]].astype(np.float64))
    return ub


def propagate_bounds(
    A: sp.spmatrix, counts: np.ndarray, suppressed: np.ndarray, rounds: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """Outer bounds on every cell by constraint propagation over the relations.

    Published cells are fixed; suppressed ones start in [0, inf). For a relation
    ``p = sum(children)``: ``p`` lies between the sums of its children's bounds, and a
    child lies between ``p``'s bound minus the other children's bounds. Repeated to a
    fixed point (or ``rounds``). Every attacker solution satisfies them, so when a solution
    reaches one, that bound is the cell's exact extreme.
    """
    A = sp.coo_matrix(A)
    n = counts.size
    lb = np.where(suppressed, 0.0, counts.astype(np.float64))
    ub = np.where(suppressed, INF, counts.astype(np.float64))
    if not A.nnz:
        return lb, ub
    plus = A.data > 0
    n_rows = A.shape[0]
    parent = np.full(n_rows, -1, dtype=np.int64)
    parent[A.row[plus]] = A.col[plus]
    crow, ccol = A.row[~plus], A.col[~plus]
    children = sp.csr_matrix((np.ones(crow.size), (crow, ccol)), shape=(n_rows, n))
    # Only relations with a suppressed cell can tighten anything.
    live = np.zeros(n_rows, dtype=bool)
    live[A.row[suppressed[A.col]]] = True
    for _ in range(rounds):
        old_lb, old_ub = lb.copy(), ub.copy()
        inf_ub = np.isinf(ub)
        sum_lb = children @ lb
        sum_ub = children @ np.where(inf_ub, 0.0, ub)
        n_inf = children @ inf_ub.astype(np.float64)
        # parent from children
        p_ub = np.where(n_inf > 0, INF, sum_ub)
        np.minimum.at(ub, parent[live], p_ub[live])
        np.maximum.at(lb, parent[live], sum_lb[live])
        # children from parent and siblings
        r_live = live[crow]
        r, c = crow[r_live], ccol[r_live]
        c_ub = ub[parent[r]] - (sum_lb[r] - lb[c])
        np.minimum.at(ub, c, c_ub)
        others_inf = n_inf[r] - inf_ub[c]
        others = np.where(others_inf > 0, INF, sum_ub[r] - np.where(inf_ub[c], 0.0, ub[c]))
        c_lb = lb[parent[r]] - others
        np.maximum.at(lb, c, c_lb)
        np.maximum(lb, 0.0, out=lb)
        if np.array_equal(lb, old_lb) and np.array_equal(ub, old_ub):
            break
        # Stop when nothing moves by more than a rounding error.
        if (
            np.allclose(lb, old_lb, atol=1e-9)
            and np.allclose(
                np.where(np.isinf(ub), 0, ub), np.where(np.isinf(old_ub), 0, old_ub), atol=1e-9
            )
            and np.array_equal(np.isinf(ub), np.isinf(old_ub))
        ):
            break
    return lb, ub


def audit(
    A: sp.spmatrix,
    counts: np.ndarray,
    status: np.ndarray,
    required_lower: np.ndarray,
    required_upper: np.ndarray,
    *,
    engine: str = "auto",
    integer: bool = False,
    exact: bool = False,
    workers: int | None = None,
) -> AuditResult:
    """Solve min and max of every suppressed cell; check every primary's protection.

    ``A`` is the relation matrix (``Table.relations``), ``status`` per cell 0 published, 1
    primary, 2 secondary. See the module docstring for the method. With ``exact`` every
    interval is exact; otherwise components bigger than ``EXACT_UPTO`` cells prove each
    primary cell's protection and give inner brackets for the rest (``AuditResult.exact``).
    ``workers``: processes for the big components (default: 2 when there are several).
    """
    start = time.perf_counter()
    counts = np.asarray(counts)
    status = np.asarray(status)
    suppressed = status != PUBLISHED
    n = counts.size
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    is_exact = np.zeros(n, dtype=bool)
    req_lo = np.asarray(required_lower, dtype=np.float64)
    req_hi = np.asarray(required_upper, dtype=np.float64)
    need_lo = np.where(status == PRIMARY, counts - req_lo, np.nan)
    need_hi = np.where(status == PRIMARY, counts + req_hi, np.nan)
    As, rhs, supp, _ = attacker_system(A, counts, suppressed)
    lb_all, ub_all = propagate_bounds(A, counts, suppressed)
    m = supp.size
    solves = 0
    n_comp = 0
    largest = 0
    if m:
        r = As.shape[0]
        bip = sp.bmat([[None, As.T], [As, None]], format="csr") if r else sp.csr_matrix((m, m))
        n_comp, labels = connected_components(bip, directed=False)
        cell_comp = labels[:m]
        row_comp = labels[m:]
        order = np.argsort(cell_comp, kind="stable")
        bounds = np.searchsorted(cell_comp[order], np.arange(n_comp + 1))
        row_order = np.argsort(row_comp, kind="stable")
        row_bounds = np.searchsorted(row_comp[row_order], np.arange(n_comp + 1))
        As_csc = As.tocsc()
        jobs = []
        for k in range(n_comp):
            cols = order[bounds[k] : bounds[k + 1]]
            if not cols.size:
                continue
            rows = row_order[row_bounds[k] : row_bounds[k + 1]]
            largest = max(largest, cols.size)
            cells = supp[cols]
            job = (
                As_csc[:, cols][rows, :],
                rhs[rows],
                lb_all[cells],
                ub_all[cells],
                counts[cells],
                need_lo[cells],
                need_hi[cells],
                {"engine": engine, "integer": integer, "exact": exact},
            )
            jobs.append((cells, job))
        for cells, (lo, hi, ok, s) in zip(
            [c for c, _ in jobs], _run_components([j for _, j in jobs], workers), strict=True
        ):
            solves += s
            lower[cells] = lo
            upper[cells] = hi
            is_exact[cells] = ok
    primary = np.flatnonzero(status == PRIMARY)
    bad = (lower[primary] > counts[primary] - req_lo[primary] + TOL) | (
        upper[primary] < counts[primary] + req_hi[primary] - TOL
    )
    return AuditResult(
        lower=lower,
        upper=upper,
        required_lower=req_lo,
        required_upper=req_hi,
        status=status.copy(),
        counts=counts.copy(),
        failures=[int(i) for i in primary[bad]],
        lp_solves=solves,
        components=int(n_comp),
        largest_component=int(largest),
        seconds=time.perf_counter() - start,
        integer=integer,
        exact=is_exact,
        outer_lower=np.where(suppressed, lb_all, np.nan),
        outer_upper=np.where(suppressed, ub_all, np.nan),
    )


def _component_job(job):
    *arrays, options = job
    return _component_bounds(*arrays, **options)


def _run_components(jobs: list, workers: int | None) -> list:
    """Solve the components, the big ones (beyond ``EXACT_UPTO`` cells) in processes."""
    big = [i for i, job in enumerate(jobs) if job[0].shape[1] > EXACT_UPTO]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(big) > 1 else 1
    results: list = [None] * len(jobs)
    if workers > 1 and len(big) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        big.sort(key=lambda i: -jobs[i][0].shape[1])  # the longest first
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for i, res in zip(big, pool.map(_component_job, [jobs[i] for i in big]), strict=True):
                results[i] = res
    for i, job in enumerate(jobs):
        if results[i] is None:
            results[i] = _component_job(job)
    return results


EXACT_UPTO = 2000  # components up to this many cells always get exact intervals
PROOF_ROUNDS = 200  # capped batch LPs at most, on a big component, before per-cell LPs


def _independent(csr, csc, candidates: np.ndarray) -> np.ndarray:
    """A set of candidate cells no two of which share a relation (greedy, in index order)."""
    taken = np.zeros(csr.shape[1], dtype=bool)
    blocked_rows = np.zeros(csr.shape[0], dtype=bool)
    for c in candidates:
        rows = csc.indices[csc.indptr[c] : csc.indptr[c + 1]]
        if blocked_rows[rows].any():
            continue
        taken[c] = True
        blocked_rows[rows] = True
    return np.flatnonzero(taken)


class _Witnesses:
    """The smallest and largest value of each cell seen in feasible tables so far."""

    def __init__(self, x0: np.ndarray):
        self.min = x0.astype(np.float64).copy()
        self.max = self.min.copy()

    def add(self, x: np.ndarray | None) -> None:
        if x is not None:
            np.minimum(self.min, x, out=self.min)
            np.maximum(self.max, x, out=self.max)


def _component_bounds(sub, rhs, lb, ub, x0, need_lo, need_hi, *, engine, integer, exact):
    """Min and max of every column of one component's system ``sub @ x = rhs, x >= 0``.

    Returns ``(lo, hi, is_exact, solves)``. ``lb``/``ub`` are outer bounds (propagated): a
    feasible table that reaches one proves it exact. ``x0`` is the true table.
    ``need_lo``/``need_hi``: what a primary cell's interval must reach (NaN for cells
    without a requirement).

    Exact (``exact``, or a component of at most ``EXACT_UPTO`` cells): batch LPs prove what
    they can, every other bound gets its own LP on the whole component. Otherwise the
    protection is proven first: capped batch LPs (every unproven primary cell pushed
    towards its requirement at once, its bound set to the requirement so that pushing one
    does not starve the others) give feasible tables until each primary cell has been
    seen at or beyond its requirement; only cells that batches cannot prove get their own
    LP, which decides them exactly. The other intervals are then inner brackets: values
    every attacker must still admit (the interval they report is contained in the true
    one), marked not exact.
    """
    k = sub.shape[1]
    if integer:
        lo, hi = _integer_bounds(sub, rhs)
        return lo, hi, np.ones(k, dtype=bool), 2 * k
    exact = exact or k <= EXACT_UPTO
    seen = _Witnesses(np.asarray(x0, dtype=np.float64))
    model = LPModel(
        sub, rhs, rhs, np.zeros(k), np.full(k, INF), np.zeros(k), engine=engine, primal=exact
    )
    solves = 0
    prev = np.zeros(0, dtype=np.int32)

    def run(cols, weights) -> tuple[str, float]:
        nonlocal prev, solves
        model.set_cost(prev, 0.0)
        model.set_cost(cols, weights)
        prev = np.atleast_1d(np.asarray(cols, dtype=np.int32))
        solves += 1
        status, obj, x = model.solve()
        if status == "infeasible":
            raise RuntimeError("the published table is inconsistent (attacker LP infeasible)")
        seen.add(x)
        return status, obj

    if exact and k > 8:
        _batch_extremes(sub, lb, ub, seen, run)
    elif not exact:
        solves += _prove_protection(model, need_lo, need_hi, seen)
        model.set_bounds(np.arange(k), 0.0, INF)
        model.set_cost(np.arange(k), 0.0)
        model.reset(primal=True)

    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    lo_exact = np.zeros(k, dtype=bool)
    hi_exact = np.zeros(k, dtype=bool)
    for j in range(k):
        # Inner values, rounded inwards as the attacker's bounds are: they decide both
        # exactness (an outer bound reached) and whether the requirement is met.
        lo[j] = max(0.0, math.ceil(seen.min[j] - TOL))
        lo_exact[j] = seen.min[j] <= lb[j] + TOL
        if not lo_exact[j] and (exact or lo[j] > need_lo[j]):
            _, obj = run(j, 1.0)
            lo[j] = max(0.0, math.ceil(obj - TOL))
            lo_exact[j] = True
        hi[j] = math.floor(seen.max[j] + TOL)
        hi_exact[j] = np.isfinite(ub[j]) and seen.max[j] >= ub[j] - TOL
        if not hi_exact[j] and (exact or hi[j] < need_hi[j]):
            status, obj = run(j, -1.0)
            hi[j] = INF if status == "unbounded" else math.floor(-obj + TOL)
            hi_exact[j] = True
    return lo, hi, lo_exact & hi_exact, solves


def _batch_extremes(sub, lb, ub, seen: _Witnesses, run) -> None:
    """Batches: one LP pushes a whole set of cells that share no relation, each weighted by
    its outer bound; every cell that reaches its bound is proven. Repeated while batches
    prove enough."""
    csr = sp.csr_matrix(sub)
    csc = sp.csc_matrix(sub)
    for direction in (-1.0, 1.0):
        for _ in range(200):
            if direction < 0:
                open_ = np.flatnonzero(np.isfinite(ub) & (seen.max < ub - TOL))
            else:
                open_ = np.flatnonzero(seen.min > lb + TOL)
            if not open_.size:
                break
            batch = _independent(csr, csc, open_)
            if direction < 0:
                run(batch, -1.0 / (ub[batch] + 1.0))
                proven = np.sum(seen.max[batch] >= ub[batch] - TOL)
            else:
                run(batch, 1.0 / (seen.min[batch] + 1.0))
                proven = np.sum(seen.min[batch] <= lb[batch] + TOL)
            if proven < max(3, 0.05 * batch.size):
                break


def _prove_protection(model: LPModel, need_lo, need_hi, seen: _Witnesses) -> int:
    """Capped batch LPs until every primary cell is seen at its requirements (or they stall).

    Each round takes every primary cell not yet seen high enough, bounds it above by its
    requirement and maximises their (randomly weighted, seeded) sum; the cells only
    missing their low side are bounded below and minimised. Any solution is a feasible
    table, so it is a witness for every cell at once. Returns the number of solves.
    """
    k = model.n
    all_cols = np.arange(k)
    has_lo = ~np.isnan(need_lo)
    has_hi = ~np.isnan(need_hi)
    solves = 0
    for round_ in range(PROOF_ROUNDS):
        up = has_hi & (seen.max < need_hi - TOL)
        low = has_lo & (seen.min > need_lo + TOL)
        unmet = int(up.sum() + low.sum())
        if not unmet:
            break
        down = low & ~up  # a cell short on both sides is pushed up first
        weights = np.random.default_rng(round_).random(k) + 0.5
        cost = np.zeros(k)
        cost[up] = -weights[up]
        cost[down] = weights[down]
        lower = np.zeros(k)
        upper = np.full(k, INF)
        upper[up] = need_hi[up]
        lower[down] = np.maximum(0.0, need_lo[down])
        model.set_bounds(all_cols, lower, upper)
        model.set_cost(all_cols, cost)
        model.reset()  # a new objective and new bounds: a fresh solve beats a warm start
        status, _, x = model.solve()
        solves += 1
        seen.add(x if status == "optimal" else None)
        still = int((has_hi & (seen.max < need_hi - TOL)).sum())
        still += int((has_lo & (seen.min > need_lo + TOL)).sum())
        if status != "optimal" or unmet - still < 10:
            break
    return solves


def _integer_bounds(sub, rhs):
    k = sub.shape[1]
    lo = np.zeros(k)
    hi = np.zeros(k)
    cons = _LinearConstraint(sub, rhs, rhs)
    integrality = np.ones(k)
    for j in range(k):
        for sign, out in ((1.0, lo), (-1.0, hi)):
            c = np.zeros(k)
            c[j] = sign
            res = milp(c, constraints=cons, integrality=integrality)
            if res.status == 0:
                out[j] = round(sign * res.fun)
            elif sign < 0:
                out[j] = INF
            else:
                raise RuntimeError(f"attacker integer program failed: {res.message}")
    return lo, hi
