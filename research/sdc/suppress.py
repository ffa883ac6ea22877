"""Primary and secondary cell suppression, the 10-5 rounding alternative, and exports.

Primary suppression
    Every cell with ``1 <= count <= threshold - 1``. With a ``sensitive`` dimension, also
    the group-disclosure rule: in every line along that dimension (one combination of the
    other dimensions' labels, margins included) whose total is non-zero and whose persons
    all fall in one leaf category, that category's cell is primary (publishing it next to
    the zeros would tell that everyone in the line shares the sensitive value).

Protection levels (the sdcTable / tau-Argus formulation)
    A primary cell with count ``a`` and protection width ``W`` (default: the threshold) gets
    a lower level ``L = min(a, W // 2)`` and an upper level ``U = W - L``. It is protected
    when the attacker's feasible interval reaches both ``a - L`` and ``a + U``, so the
    interval is at least ``W`` wide, and a cell below ``W // 2`` can be 0 for all the
    attacker knows.

Secondary suppression (a Fischetti-Salazar style attacker/repair loop)
    For every target cell and direction the *repair problem* looks for a perturbation ``y``
    of the table that keeps every relation (``A y = 0``), keeps counts non-negative
    (``y_j >= -a_j``), moves the target by exactly ``+U`` (or ``-L``) and moves only
    suppressed cells; published cells may move too, at a cost, and those that move are
    suppressed as complements. If the cheapest perturbation costs nothing, the target is
    already protected in that direction (this *is* the attacker's LP, by duality). Suppressed
    cells only ever get added, so once a target is protected it stays protected, and one pass
    over the targets protects the table. The repair is solved as an integer program
    (``scipy.optimize.milp``, binaries for "complement suppressed", costs below) on tables of
    at most ``exact_limit`` cells, followed by a pass that publishes again every complement
    the table turns out not to need; on larger tables it is the weighted-L1 linear
    relaxation (cost per unit of movement), solved on one warm-started HiGHS model.

    Cost of suppressing a cell: ``(1 + count / (grand total + 1)) * 1000 ** level``, where
    ``level`` is the number of dimensions in which the cell is a total or a subtotal, so the
    number of suppressed interior cells is minimised first, then their counts, and margins
    are suppressed only when nothing cheaper works.

Large tables (more than ``exact_limit`` cells): HiTaS-style decomposition
    The table is cut into non-hierarchical subtables, one per combination of a parent label
    and its children in every dimension (total -> regions, region -> its countries, ...),
    processed top-down. In a subtable, cells already decided by another subtable are fixed:
    published ones may not move (unless nothing else works: then they are suppressed and
    the subtables that share them are processed again), suppressed shared cells are
    protected like primaries (so a lower table cannot undo the protection of a higher one).
    Within a subtable, a target is first checked cheaply: feasible tables already seen
    (from earlier LPs and repairs; they stay feasible as suppressions only grow), batches
    of attacker LPs over targets that share no relation, a hypercube of suppressed cells;
    then the attacker LP itself. When complements are needed, the cheapest hypercube
    (2**d corners, tau-Argus's GHMITER idea) is taken if it needs no margin, else the repair
    LP. Then the whole table is audited, and any primary cell still too narrow is repaired
    on the whole table (``protect`` with ``run_audit=True``, the default).

Deterministic: targets are processed in a fixed order (count, then cell index), HiGHS is
run single-model and sequentially, and every tie is broken by cell index.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from research.sdc.audit import (
    INF,
    PRIMARY,
    PUBLISHED,
    SECONDARY,
    TOL,
    AuditResult,
    LPModel,
    _independent,
    audit,
)
from research.sdc.table import TOTAL, Dimension, Table, relation_matrix

SUPPRESSION = "cell suppression"
ROUNDING = "rounding (10-5 rule)"
MARGIN_COST = 1000.0
REOPEN_COST = 1000.0
_REPAIR_PRIMAL = False
FLAGS = {PUBLISHED: "", PRIMARY: "x", SECONDARY: "s"}


@dataclass
class Protection:
    """A protected table: what is published, what is suppressed and why, and its audit.

    ``status`` per cell: 0 published, 1 primary, 2 secondary. ``published`` per cell: the
    value shown (the count, or the rounded count under the rounding method); meaningless
    where suppressed. ``lower``/``upper``: the protection levels of primary cells.
    """

    table: Table
    status: np.ndarray
    published: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    threshold: int
    width: int
    method: str = SUPPRESSION
    sensitive: str | None = None
    audit: AuditResult | None = None
    stats: dict = field(default_factory=dict)

    @property
    def suppressed(self) -> np.ndarray:
        return self.status != PUBLISHED

    @property
    def n_primary(self) -> int:
        return int((self.status == PRIMARY).sum())

    @property
    def n_secondary(self) -> int:
        return int((self.status == SECONDARY).sum())

    def flag(self, cell: Sequence[str]) -> str:
        return FLAGS[int(self.status[self.table.index(cell)])]

    def run_audit(
        self, *, engine: str = "auto", integer: bool = False, exact: bool = False
    ) -> AuditResult:
        """Audit (again) and keep the result (``exact``: see ``audit``)."""
        self.audit = audit(
            self.table.relations,
            self.table.counts,
            self.status,
            self.lower,
            self.upper,
            engine=engine,
            integer=integer,
            exact=exact,
        )
        return self.audit


# --------------------------------------------------------------------------- primaries


def primary_cells(table: Table, threshold: int = 10, sensitive: str | None = None) -> np.ndarray:
    """Boolean mask of the primary cells (see the module docstring)."""
    counts = table.counts
    primary = (counts >= 1) & (counts <= threshold - 1)
    if sensitive is not None:
        primary |= group_disclosure_cells(table, sensitive)
    return primary


def group_disclosure_cells(table: Table, sensitive: str) -> np.ndarray:
    """Cells that would tell that every person of a non-empty line shares one category."""
    if sensitive not in table.names:
        raise ValueError(f"sensitive variable {sensitive!r} is not a dimension of the table")
    axis = table.names.index(sensitive)
    dim = table.dims[axis]
    leaves = np.flatnonzero(dim.is_leaf)
    arr = np.moveaxis(table.counts.reshape(table.shape), axis, -1)
    leaf_vals = arr[..., leaves]
    nonzero = leaf_vals > 0
    disclosing = (arr[..., 0] > 0) & (nonzero.sum(axis=-1) == 1)
    mask = np.zeros(arr.shape, dtype=bool)
    which = leaves[np.argmax(nonzero, axis=-1)]
    idx = np.nonzero(disclosing)
    mask[(*idx, which[idx])] = True
    return np.moveaxis(mask, -1, axis).ravel()


def protection_levels(counts: np.ndarray, targets: np.ndarray, width: int):
    """(lower, upper) protection levels: ``L = min(a, W // 2)``, ``U = W - L`` on targets."""
    counts = np.asarray(counts, dtype=np.int64)
    lower = np.where(targets, np.minimum(counts, width // 2), 0)
    upper = np.where(targets, width - lower, 0)
    return lower.astype(np.int64), upper.astype(np.int64)


def cell_costs(table: Table) -> np.ndarray:
    """Cost of suppressing each cell (see the module docstring)."""
    base = 1.0 + table.counts / (table.grand_total + 1.0)
    return base * MARGIN_COST ** table.margin_level.astype(np.float64)


# --------------------------------------------------------------------------- repair model


class _Repair:
    """The repair LP of one (sub)table: columns y+ (0..k-1) and y- (k..2k-1).

    ``A y+ - A y- = 0``; ``0 <= y+_j``, ``0 <= y-_j <= a_j``; closed cells cannot move.
    Cost per unit of movement: 0 for suppressed cells, the cell's cost otherwise.
    """

    def __init__(self, A, values, cost, suppressed, closed, engine="auto"):
        k = values.size
        self.k = k
        self.A = sp.csr_matrix(A)
        self.values = values.astype(np.float64)
        self.cost = cost.astype(np.float64)
        self.suppressed = suppressed.copy()
        self.closed = closed & ~suppressed
        hi_plus = np.where(self.closed, 0.0, INF)
        hi_minus = np.where(self.closed, 0.0, self.values)
        unit = np.where(self.suppressed, 0.0, self.cost)
        M = sp.hstack([self.A, -self.A], format="csc")
        zeros = np.zeros(self.A.shape[0])
        self.model = LPModel(
            M,
            zeros,
            zeros,
            np.zeros(2 * k),
            np.concatenate([hi_plus, hi_minus]),
            np.concatenate([unit, unit]),
            engine=engine,
            primal=_REPAIR_PRIMAL,
        )
        # The attacker's model: every cell a column, published ones fixed at their count.
        self.check = LPModel(
            self.A,
            zeros,
            zeros,
            np.where(self.suppressed, 0.0, self.values),
            np.where(self.suppressed, INF, self.values),
            np.zeros(k),
            engine=engine,
            primal=True,
        )
        self._check_prev: int | None = None
        # Extremes seen in feasible tables (they stay feasible as suppressions only grow).
        self.seen_min = self.values.copy()
        self.seen_max = self.values.copy()

    def observe(self, x: np.ndarray) -> None:
        np.minimum(self.seen_min, x, out=self.seen_min)
        np.maximum(self.seen_max, x, out=self.seen_max)

    def attack(self, t: int, up: bool) -> float:
        """The attacker's max (``up``) or min of cell t, given the current suppressions."""
        if self._check_prev is not None:
            self.check.set_cost([self._check_prev], 0.0)
        self.check.set_cost([t], -1.0 if up else 1.0)
        self._check_prev = t
        status, obj, x = self.check.solve()
        if x is not None:
            self.observe(x)
        if status == "unbounded":
            return INF if up else 0.0
        if status != "optimal":
            raise RuntimeError(f"attacker LP: {status}")
        return -obj if up else obj

    def protected(self, t: int, amount: float, up: bool) -> bool:
        goal = self.values[t] + amount if up else self.values[t] - amount
        if up:
            return self.seen_max[t] >= goal - TOL or self.attack(t, True) >= goal - TOL
        return self.seen_min[t] <= goal + TOL or self.attack(t, False) <= goal + TOL

    def publish(self, j: int) -> None:
        """Undo a suppression (redundancy pass): the cell is fixed at its count again."""
        self.suppressed[j] = False
        self.model.set_cost([j, j + self.k], self.cost[j])
        self.check.set_bounds([j], self.values[j], self.values[j])
        self.seen_min = self.values.copy()
        self.seen_max = self.values.copy()

    def suppress(self, js: np.ndarray) -> None:
        js = np.asarray(js, dtype=np.int64)
        if not js.size:
            return
        self.suppressed[js] = True
        self.model.set_cost(np.concatenate([js, js + self.k]), 0.0)
        self.check.set_bounds(js, 0.0, INF)
        reopened = js[self.closed[js]]
        if reopened.size:
            self.closed[reopened] = False
            self.model.set_bounds(reopened, 0.0, INF)
            self.model.set_bounds(reopened + self.k, 0.0, self.values[reopened])

    def _open_closed(self, factor: float) -> np.ndarray:
        js = np.flatnonzero(self.closed)
        if js.size:
            self.model.set_bounds(js, 0.0, INF)
            self.model.set_bounds(js + self.k, 0.0, self.values[js])
            self.model.set_cost(
                np.concatenate([js, js + self.k]), np.tile(self.cost[js] * factor, 2)
            )
        return js

    def _close(self, js: np.ndarray) -> None:
        js = js[self.closed[js]]
        if js.size:
            self.model.set_bounds(np.concatenate([js, js + self.k]), 0.0, 0.0)

    def solve(self, t: int, amount: float, up: bool):
        """(objective, y) of the cheapest perturbation moving cell t by +-amount, or None."""
        k = self.k
        col, other = (t, t + k) if up else (t + k, t)
        self.model.set_bounds([col], amount, amount)
        self.model.set_bounds([other], 0.0, 0.0)
        status, obj, x = self.model.solve()
        opened = np.zeros(0, dtype=np.int64)
        if status != "optimal":
            opened = self._open_closed(REOPEN_COST)
            if opened.size:
                status, obj, x = self.model.solve()
        self._close(opened)
        if opened.size:
            self.model.set_cost(np.concatenate([opened, opened + k]), 0.0)
            still = opened[~self.suppressed[opened]]
            self.model.set_cost(np.concatenate([still, still + k]), np.tile(self.cost[still], 2))
        self.model.set_bounds([t], 0.0, INF)
        self.model.set_bounds([t + k], 0.0, self.values[t])
        if status != "optimal":
            return None
        return obj, x[:k] - x[k:]

    def exact(self, t: int, amount: float, up: bool, node_limit: int = 2000):
        """The repair as an integer program: fewest / cheapest complements. None if no luck."""
        k = self.k
        free = np.flatnonzero(~self.suppressed & ~self.closed)
        free = free[free != t]
        f = free.size
        if not f:
            return None
        nvar = 2 * k + f
        cost = np.zeros(nvar)
        cost[:k] = 1e-6
        cost[k : 2 * k] = 1e-6
        cost[2 * k :] = self.cost[free]
        lo = np.zeros(nvar)
        hi = np.concatenate(
            [np.where(self.closed, 0.0, INF), np.where(self.closed, 0.0, self.values), np.ones(f)]
        )
        if up:
            lo[t] = hi[t] = amount
            hi[t + k] = 0.0
        else:
            lo[t + k] = hi[t + k] = amount
            hi[t] = 0.0
        big = 2.0 * amount + self.values[free]
        rel = sp.hstack([self.A, -self.A, sp.csr_matrix((self.A.shape[0], f))], format="csr")
        link = sp.csr_matrix(
            (
                np.concatenate([np.ones(f), np.ones(f), -big]),
                (np.tile(np.arange(f), 3), np.concatenate([free, free + k, 2 * k + np.arange(f)])),
            ),
            shape=(f, nvar),
        )
        integrality = np.zeros(nvar)
        integrality[2 * k :] = 1
        res = milp(
            cost,
            constraints=[
                LinearConstraint(rel, 0.0, 0.0),
                LinearConstraint(link, -np.inf, 0.0),
            ],
            integrality=integrality,
            bounds=Bounds(lo, hi),
            options={"node_limit": node_limit, "time_limit": 60.0},
        )
        if res.x is None:
            return None
        x = res.x
        y = x[:k] - x[k : 2 * k]
        z = x[2 * k :] > 0.5
        # Trust the perturbation only on cells the program paid for (and suppressed ones).
        moved = np.abs(y) > TOL
        allowed = self.suppressed.copy()
        allowed[free[z]] = True
        if np.any(moved & ~allowed):
            return None
        return float(self.cost[free[z]].sum()), y


# --------------------------------------------------------------------------- protection


def protect(
    table: Table,
    threshold: int = 10,
    width: int | None = None,
    sensitive: str | None = None,
    *,
    exact_limit: int = 2000,
    run_audit: bool = True,
    exact_audit: bool = False,
    engine: str = "auto",
    extra_primary: np.ndarray | None = None,
    workers: int | None = None,
) -> Protection:
    """Primary and secondary suppression of ``table``; audited unless ``run_audit=False``
    (``exact_audit``: exact intervals everywhere, see ``audit``).

    ``width`` is the protection width (default: ``threshold``). ``extra_primary`` is an
    optional boolean mask of further cells to protect as primaries. ``workers``: processes
    for the subtables of one level on large tables (default: 2 from 20,000 cells, else 1;
    the pattern does not depend on it).
    """
    start = time.perf_counter()
    width = threshold if width is None else int(width)
    if threshold < 1 or width < 0:
        raise ValueError("threshold must be >= 1 and width >= 0")
    primary = primary_cells(table, threshold, sensitive)
    if extra_primary is not None:
        primary |= np.asarray(extra_primary, dtype=bool) & (table.counts > 0)
    status = np.where(primary, PRIMARY, PUBLISHED).astype(np.int8)
    lower, upper = protection_levels(table.counts, primary, width)
    cost = cell_costs(table)
    stats: dict = {"cells": table.n_cells, "primary": int(primary.sum())}
    if width > 0 and primary.any():
        if table.n_cells <= exact_limit:
            stats["method"] = "exact (integer repair + redundancy pass)"
            _protect_whole(table, status, lower, upper, cost, exact=True, engine=engine)
        else:
            stats["method"] = "decomposition (HiTaS-style subtables, LP repair)"
            if workers is None:
                workers = min(2, os.cpu_count() or 1) if table.n_cells >= 20000 else 1
            stats["workers"] = workers
            _protect_decomposed(
                table, status, width, lower, upper, cost, engine, stats, workers=workers
            )
    stats["secondary"] = int((status == SECONDARY).sum())
    stats["protect_seconds"] = round(time.perf_counter() - start, 3)
    result = Protection(
        table=table,
        status=status,
        published=table.counts.copy(),
        lower=lower,
        upper=upper,
        threshold=threshold,
        width=width,
        method=SUPPRESSION,
        sensitive=sensitive,
        stats=stats,
    )
    if run_audit:
        result.run_audit(engine=engine, exact=exact_audit)
        if not result.audit.passed and width > 0:
            # Should not happen (every repair is a certificate); repair on the whole table.
            for _ in range(3):
                _repair_failures(table, status, lower, upper, cost, result.audit.failures, engine)
                result.status = status
                result.run_audit(engine=engine, exact=exact_audit)
                if result.audit.passed:
                    break
            stats["secondary"] = int((status == SECONDARY).sum())
        stats["audit_seconds"] = round(result.audit.seconds, 3)
    return result


def _target_order(counts: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return idx[np.lexsort((idx, counts[idx]))]


def _best_hypercube(rep: _Repair, shape: tuple[int, ...], t: int, up: float, down: float):
    """The cheapest hypercube through target t that moves it by +up and -down, or None.

    In a subtable whose every dimension is (parent, children...), a hypercube picks for
    each dimension a partner label (a sibling, sign -1, or the parent / a child, sign +1);
    its 2**d corners moved by +-x (the product of the signs) keep every relation. It is
    feasible when the corners that go down hold enough (``>= up`` resp. ``>= down``) and
    no closed cell moves; its cost is that of its corners not yet suppressed.
    """
    pos = np.unravel_index(t, shape)
    dims = [d for d in range(len(shape)) if shape[d] > 1]
    if not dims:
        return None
    options = [np.array([lab for lab in range(shape[d]) if lab != pos[d]]) for d in dims]
    signs = [
        np.where((opt != 0) & (pos[d] != 0), -1, 1) for d, opt in zip(dims, options, strict=True)
    ]
    grids = np.meshgrid(*options, indexing="ij")
    sgrids = np.meshgrid(*signs, indexing="ij")
    values = rep.values
    blocked = rep.closed
    cost = np.where(rep.suppressed, 0.0, rep.cost)
    ok = np.ones(grids[0].shape, dtype=bool)
    total = np.zeros(grids[0].shape)
    corners = []
    for subset in itertools.product((0, 1), repeat=len(dims)):
        if not any(subset):
            continue
        idx = list(pos)
        sign = np.ones(grids[0].shape, dtype=np.int64)
        for k, d in enumerate(dims):
            if subset[k]:
                idx[d] = grids[k]
                sign = sign * sgrids[k]
        flat = np.ravel_multi_index(tuple(np.broadcast_to(i, grids[0].shape) for i in idx), shape)
        v = values[flat]
        ok &= ~blocked[flat]
        ok &= np.where(sign < 0, v >= up, v >= down)
        total += cost[flat]
        corners.append((flat, np.broadcast_to(sign, grids[0].shape)))
    if not ok.any():
        return None
    total = np.where(ok, total, np.inf)
    best = int(np.argmin(total))  # first minimum in C order: deterministic
    cells = np.array([t, *(flat.ravel()[best] for flat, _ in corners)])
    sign = np.array([1, *(sg.ravel()[best] for _, sg in corners)])
    return float(total.ravel()[best]), cells, sign


def _batch_check(rep: _Repair, targets, lo_req, hi_req, rounds: int = 30) -> None:
    """Prove many targets protected at once: one attacker LP pushes a set of targets that
    share no relation (weighted sum); every target it moves far enough is done."""
    if len(targets) < 8:
        return
    csr = sp.csr_matrix(rep.A)
    csc = sp.csc_matrix(rep.A)
    targets = np.asarray(targets, dtype=np.int64)
    values = rep.values
    model = rep.check
    for up in (True, False):
        amount = np.asarray(hi_req if up else lo_req, dtype=np.float64)
        goal = values[targets] + amount if up else values[targets] - amount
        for _ in range(rounds):
            if up:
                open_ = targets[(amount > 0) & (rep.seen_max[targets] < goal - TOL)]
            else:
                open_ = targets[(amount > 0) & (rep.seen_min[targets] > goal + TOL)]
            if open_.size < 8:
                break
            batch = _independent(csr, csc, open_)
            model.set_cost(np.arange(rep.k), 0.0)
            model.set_cost(batch, (-1.0 if up else 1.0) / (values[batch] + 1.0))
            status, _, x = model.solve()
            if x is None:
                break
            rep.observe(x)
            if up:
                proven = np.sum(rep.seen_max[batch] >= values[batch] + 1 - TOL)
            else:
                proven = np.sum(rep.seen_min[batch] <= values[batch] - 1 + TOL)
            if proven < max(3, 0.1 * batch.size):
                break
    model.set_cost(np.arange(rep.k), 0.0)
    rep._check_prev = None


def _observe_cube(rep: _Repair, hc, move: float) -> None:
    x = rep.values.copy()
    x[hc[1]] += move * hc[2]
    rep.observe(x)


def _protect_targets(
    rep: _Repair, targets, lo_req, hi_req, *, exact: bool, cube: tuple[int, ...] | None = None
) -> np.ndarray:
    """Protect each target (local indices) in turn; return the local cells newly suppressed.

    For each direction: skip if some feasible table already seen moves the target far
    enough, else ask the attacker's LP; if that falls short, add complements: with ``cube``
    (the subtable's shape) the cheapest hypercube when it needs no margin, else the repair
    LP (or integer program when ``exact``).
    """
    added: list[int] = []
    values = rep.values
    _batch_check(rep, targets, lo_req, hi_req)
    for t, lo_t, hi_t in zip(targets, lo_req, hi_req, strict=True):
        t = int(t)
        for up, amount in ((True, float(hi_t)), (False, float(lo_t))):
            if amount <= 0:
                continue
            goal = values[t] + amount if up else values[t] - amount
            if (rep.seen_max[t] >= goal - TOL) if up else (rep.seen_min[t] <= goal + TOL):
                continue
            hc = None
            if cube is not None:
                hc = _best_hypercube(rep, cube, t, amount if up else 0.0, 0.0 if up else amount)
            if hc is not None and hc[0] == 0:  # a certificate made of suppressed cells
                _observe_cube(rep, hc, amount if up else -amount)
                continue
            if rep.protected(t, amount, up):  # the attacker's LP
                continue
            if hc is not None and hc[0] < MARGIN_COST:
                new = hc[1][~rep.suppressed[hc[1]]]
                rep.suppress(new)
                added.extend(int(j) for j in new)
                _observe_cube(rep, hc, amount if up else -amount)
                continue
            found = rep.solve(t, amount, up)
            if found is None:
                raise RuntimeError("secondary suppression found no protection (bug)")
            obj, y = found
            if obj > TOL and exact:
                better = rep.exact(t, amount, up)
                if better is not None and better[0] <= obj + TOL:
                    obj, y = better
            new = np.flatnonzero((np.abs(y) > TOL) & ~rep.suppressed)
            if new.size:
                rep.suppress(new)
                added.extend(int(j) for j in new)
            rep.observe(values + y)
    return np.asarray(sorted(set(added)), dtype=np.int64)


def _protect_whole(table, status, lower, upper, cost, *, exact, engine) -> None:
    targets = _target_order(table.counts, np.flatnonzero(status == PRIMARY))
    suppressed = status != PUBLISHED
    rep = _Repair(
        table.relations, table.counts, cost, suppressed, np.zeros_like(suppressed), engine
    )
    added = _protect_targets(rep, targets, lower[targets], upper[targets], exact=exact)
    status[added] = SECONDARY
    if exact and added.size:
        _drop_redundant(rep, status, targets, lower, upper, cost)


def _drop_redundant(rep, status, targets, lower, upper, cost, budget: int = 20000) -> None:
    """Publish again each complement (dearest first) whose release keeps every target safe."""
    secondary = np.flatnonzero(status == SECONDARY)
    order = secondary[np.lexsort((-secondary, -cost[secondary]))]
    solves = 0
    for j in order:
        if solves > budget:
            break
        rep.publish(int(j))
        ok = True
        for t in targets:
            for up, amount in ((True, upper[t]), (False, lower[t])):
                if amount <= 0:
                    continue
                solves += 1
                if not rep.protected(int(t), float(amount), up):
                    ok = False
                    break
            if not ok:
                break
        if ok:
            status[j] = PUBLISHED
        else:
            rep.suppress(np.array([j]))


def _repair_failures(table, status, lower, upper, cost, failures, engine) -> None:
    suppressed = status != PUBLISHED
    rep = _Repair(
        table.relations, table.counts, cost, suppressed, np.zeros_like(suppressed), engine
    )
    targets = _target_order(table.counts, np.asarray(failures, dtype=np.int64))
    added = _protect_targets(rep, targets, lower[targets], upper[targets], exact=False)
    status[added] = SECONDARY


# --------------------------------------------------------------------------- decomposition


def _local_dimension(dim: Dimension, parent: int, kids: tuple[int, ...]) -> Dimension:
    labels = (dim.labels[parent], *(dim.labels[c] for c in kids))
    return Dimension(dim.name, labels, (-1, *([0] * len(kids))), (0, *([1] * len(kids))))


def subtables(table: Table) -> list[tuple]:
    """HiTaS subtables, top-down: (group ids, global cell indices, local relations, shape)."""
    per_dim = []
    for dim in table.dims:
        groups = dim.groups() or [(0, ())]
        per_dim.append(groups)
    cell_ids = np.arange(table.n_cells, dtype=np.int64).reshape(table.shape)
    combos = list(itertools.product(*[range(len(g)) for g in per_dim]))
    combos.sort(
        key=lambda c: (
            sum(table.dims[d].depth[per_dim[d][g][0]] for d, g in enumerate(c)),
            c,
        )
    )
    out = []
    for combo in combos:
        local_dims = []
        label_lists = []
        for d, g in enumerate(combo):
            parent, kids = per_dim[d][g]
            local_dims.append(_local_dimension(table.dims[d], parent, kids))
            label_lists.append([parent, *kids])
        cells = cell_ids[np.ix_(*label_lists)].ravel()
        shape = tuple(len(labels) for labels in label_lists)
        out.append((combo, cells, relation_matrix(local_dims), shape))
    return out


def _subtable_work(args) -> np.ndarray:
    """Protect the targets of one subtable (runs in a worker process, or in this one)."""
    rel, values, cost, suppressed, closed, tgt, lo, hi, shape, engine = args
    rep = _Repair(rel, values, cost, suppressed, closed, engine)
    return _protect_targets(rep, tgt, lo, hi, exact=False, cube=shape)


def _protect_decomposed(
    table, status, width, lower, upper, cost, engine, stats, workers: int = 1
) -> None:
    subs = subtables(table)
    position = {sub[0]: i for i, sub in enumerate(subs)}
    membership = np.zeros(table.n_cells, dtype=np.int32)
    for sub in subs:
        cells = sub[1]
        membership[cells] += 1
    shared = membership > 1
    processed_in = np.zeros(table.n_cells, dtype=np.int32)  # processed subtables per cell
    done = np.zeros(len(subs), dtype=bool)
    group_of = []  # per dim: label -> group index (as parent)
    for dim in table.dims:
        gmap = {p: g for g, (p, _) in enumerate(dim.groups() or [(0, ())])}
        group_of.append(gmap)

    def containing(cell: int) -> list[int]:
        labels = table.label_index[cell]
        options = []
        for d, lab in enumerate(labels):
            dim = table.dims[d]
            opts = []
            if dim.parent[lab] >= 0:
                opts.append(group_of[d][dim.parent[lab]])
            if lab in group_of[d]:
                opts.append(group_of[d][lab])
            options.append(opts)
        return [position[c] for c in itertools.product(*options)]

    protected_local: dict[int, np.ndarray] = {}

    def prepare(i: int) -> tuple:
        _, cells, rel, shape = subs[i]
        values = table.counts[cells]
        suppressed = status[cells] != PUBLISHED
        others = processed_in[cells] - (1 if done[i] else 0)
        closed = ~suppressed & (others > 0)
        is_target = (status[cells] == PRIMARY) | (suppressed & shared[cells])
        # Targets protected in an earlier pass stay protected: the subtable's suppressions
        # only grow (and its closed cells only open).
        if i in protected_local:
            is_target &= ~protected_local[i]
        protected_local[i] = protected_local.get(i, np.zeros(cells.size, bool)) | is_target
        tgt = np.flatnonzero(is_target)
        tgt = tgt[np.lexsort((cells[tgt], values[tgt]))]
        lo = lower[cells[tgt]].copy()
        hi = upper[cells[tgt]].copy()
        carried = status[cells[tgt]] == SECONDARY
        if carried.any():
            c_lo, c_hi = protection_levels(
                values[tgt[carried]], np.ones(carried.sum(), bool), width
            )
            lo[carried], hi[carried] = c_lo, c_hi
        shape = tuple(int(n) for n in shape)
        return (rel, values, cost[cells], suppressed, closed, tgt, lo, hi, shape, engine)

    def finish(i: int, closed: np.ndarray, added: np.ndarray) -> set[int]:
        cells = subs[i][1]
        dirty: set[int] = set()
        if added.size:
            g = cells[added]
            status[g] = SECONDARY
            for j, was_closed in zip(g, closed[added], strict=True):
                if was_closed:
                    dirty.update(s for s in containing(int(j)) if s != i and done[s])
        if not done[i]:
            processed_in[cells] += 1
            done[i] = True
        return dirty

    def process(i: int) -> set[int]:
        args = prepare(i)
        return finish(i, args[4], _subtable_work(args))

    # First pass, level by level (depth of the parents); the subtables of one level that
    # share no cell do not depend on each other, so they may run in parallel processes
    # (the result is the same as in sequence).
    dirty: set[int] = set()
    levels: dict[int, list[int]] = {}
    for i, sub in enumerate(subs):
        depth = sum(
            table.dims[d].depth[table.dims[d].groups()[g][0]]
            for d, g in enumerate(sub[0])
            if table.dims[d].groups()
        )
        levels.setdefault(depth, []).append(i)
    pool = None
    try:
        for depth in sorted(levels):
            members = levels[depth]
            owner = np.zeros(table.n_cells, dtype=np.int32)
            for i in members:
                owner[subs[i][1]] += 1
            disjoint = bool(owner.max() <= 1)
            if workers > 1 and disjoint and len(members) > 1:
                if pool is None:
                    import multiprocessing
                    from concurrent.futures import ProcessPoolExecutor

                    pool = ProcessPoolExecutor(
                        workers, mp_context=multiprocessing.get_context("fork")
                    )
                prepared = [prepare(i) for i in members]
                results = list(pool.map(_subtable_work, prepared, chunksize=1))
                for i, args, added in zip(members, prepared, results, strict=True):
                    dirty |= finish(i, args[4], added)
            else:
                for i in members:
                    dirty |= process(i)
    finally:
        if pool is not None:
            pool.shutdown()
    rounds = 0
    while dirty and rounds < 20:
        rounds += 1
        todo, dirty = sorted(dirty), set()
        for i in todo:
            dirty |= process(i)
    stats["subtables"] = len(subs)
    stats["backtrack_rounds"] = rounds


# --------------------------------------------------------------------------- rounding


def round_table(
    table: Table, threshold: int = 10, base: int = 5, sensitive: str | None = None
) -> Protection:
    """The 10-5 rule: suppress counts 1..threshold-1, round the rest to the nearest ``base``.

    Rounded tables are not additive (a published total need not equal the sum of its
    published parts) and are meant for reports where exact additivity is not needed; the
    result says which method it used. No secondary suppression, no audit.
    """
    primary = primary_cells(table, threshold, sensitive)
    status = np.where(primary, PRIMARY, PUBLISHED).astype(np.int8)
    rounded = ((table.counts + base // 2) // base) * base  # half up; ties impossible for odd base
    zeros = np.zeros(table.n_cells, dtype=np.int64)
    return Protection(
        table=table,
        status=status,
        published=rounded.astype(np.int64),
        lower=zeros,
        upper=zeros,
        threshold=threshold,
        width=0,
        method=ROUNDING,
        sensitive=sensitive,
        stats={"cells": table.n_cells, "primary": int(primary.sum()), "base": base},
    )


# --------------------------------------------------------------------------- exports


def long_frame(result: Protection, *, public: bool = False) -> pd.DataFrame:
    """One row per cell: a column per dimension (``Total`` for margins), count and flag.

    ``count`` is empty where suppressed; ``flag`` is empty when published, ``x`` primary and
    ``s`` secondary, or ``x`` for every suppression in the ``public`` form.
    """
    table = result.table
    frame = table.frame().drop(columns="count")
    supp = result.status != PUBLISHED
    frame["count"] = pd.array(np.where(supp, 0, result.published), dtype="Int64")
    frame.loc[supp, "count"] = pd.NA
    flags = np.array(["", "x", "s"], dtype=object)[result.status]
    if public:
        flags = np.where(supp, "x", "")
    frame["flag"] = flags
    return frame


def to_csv(result: Protection, path=None, *, public: bool = False) -> str:
    """The long CSV form; written to ``path`` if given, and returned."""
    buf = io.StringIO()
    long_frame(result, public=public).to_csv(buf, index=False, lineterminator="\n")
    text = buf.getvalue()
    if path is not None:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return text


def to_dict(result: Protection, *, public: bool = False) -> dict:
    """The JSON form: method, settings, the audit summary, and one entry per cell.

    Suppressed cells carry their audited interval ``[min, max]`` (``null`` max when nothing
    bounds it) unless ``public``; where the audit only bracketed it (big components, see
    ``audit``), ``interval_exact`` is false and ``interval_outer`` gives the outer bounds.
    The public form has no intervals and one flag.
    """
    table = result.table
    frame = long_frame(result, public=public)
    names = list(table.names)
    cells = []
    aud = None if public else result.audit
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        entry = {
            "cell": dict(zip(names, row[: len(names)], strict=True)),
            "count": None if pd.isna(row[-2]) else int(row[-2]),
            "flag": row[-1],
        }
        if aud is not None and result.status[i] != PUBLISHED:
            entry["interval"] = aud.rounded_interval(i)
            if not aud.is_exact(i):
                # An inner bracket: the attacker's interval contains it and lies within
                # the outer bounds.
                entry["interval_exact"] = False
                entry["interval_outer"] = aud.rounded_interval(i, outer=True)
        cells.append(entry)
    out = {
        "dimensions": names,
        "total_label": TOTAL,
        "method": result.method,
        "threshold": result.threshold,
        "protection_width": result.width,
        "cells": cells,
    }
    if not public:
        out["sensitive"] = result.sensitive
        out["audit"] = None if result.audit is None else result.audit.summary()
    return out


def to_json(result: Protection, path=None, *, public: bool = False) -> str:
    text = json.dumps(to_dict(result, public=public), ensure_ascii=False, indent=1) + "\n"
    if path is not None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return text
