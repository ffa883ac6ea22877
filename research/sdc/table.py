"""Frequency tables with margins and hierarchies, built from microdata.

A table has one *dimension* per variable. Each dimension's labels form a tree: the grand
total ``"Total"`` at the root, the parent codes of the hierarchy (if any) as subtotals, and
the categories seen in the data (plus the hierarchy's leaves, so that two releases of the
same table have the same cells) as leaves. A *cell* is one label per dimension; the table
holds every cell, margins and subtotals included, in C order over the dimensions' labels.

The additive *relations* are: along every dimension, for every parent label and every
combination of the other dimensions' labels, parent cell = sum of its children. They are
kept as a sparse matrix ``A`` (one row per relation, +1 on the parent cell, -1 on each
child), so ``A @ counts == 0``.

Labels are strings: integers print as integers (``2019``, not ``2019.0``), missing values
become their own category (``"Missing"`` by default).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

TOTAL = "Total"
MISSING = "Missing"


def label_of(value: object, missing: str = MISSING) -> str:
    """The string label of one code: missing values are ``missing``, 2019.0 is ``"2019"``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return missing
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return missing
        if float(value).is_integer():
            return str(int(value))
    if isinstance(value, np.integer | np.bool_):
        return str(value.item())
    return str(value)


def _sort_key(value: object) -> tuple:
    """Numbers in numeric order before strings in lexical order (a fixed, total order)."""
    if isinstance(value, bool | np.bool_):
        return (0, float(value), "")
    if isinstance(value, int | float | np.integer | np.floating):
        return (0, float(value), "")
    return (1, 0.0, str(value))


@dataclass(frozen=True)
class Dimension:
    """One variable of a table: its labels as a tree, in depth-first pre-order.

    ``labels[0]`` is ``"Total"``; ``parent[i]`` is the index of label i's parent (-1 for the
    total); ``depth[i]`` is 0 for the total, 1 for its children, and so on.
    """

    name: str
    labels: tuple[str, ...]
    parent: tuple[int, ...]
    depth: tuple[int, ...]

    @cached_property
    def index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    @cached_property
    def children(self) -> tuple[tuple[int, ...], ...]:
        kids: list[list[int]] = [[] for _ in self.labels]
        for i, p in enumerate(self.parent):
            if p >= 0:
                kids[p].append(i)
        return tuple(tuple(k) for k in kids)

    @cached_property
    def is_leaf(self) -> np.ndarray:
        return np.array([not k for k in self.children], dtype=bool)

    @property
    def size(self) -> int:
        return len(self.labels)

    def groups(self) -> list[tuple[int, tuple[int, ...]]]:
        """(parent, children) for every non-leaf label, top-down (pre-order)."""
        return [(i, kids) for i, kids in enumerate(self.children) if kids]


def make_dimension(
    name: str,
    codes: Sequence[object],
    hierarchy: Mapping[object, object] | None = None,
    missing: str = MISSING,
) -> Dimension:
    """Build a dimension from the distinct codes seen and an optional ``code -> parent`` map.

    Codes of the data that the hierarchy does not mention hang directly under the total,
    and so do the hierarchy's top-level parents. Leaves of the hierarchy absent from the
    data are kept (as zero cells). A cycle or a code spelled ``"Total"`` is an error.
    """
    raw = sorted({c for c in codes if label_of(c, missing) != missing}, key=_sort_key)
    has_missing = any(label_of(c, missing) == missing for c in codes)
    parent_of: dict[str, str] = {}
    order: dict[str, tuple] = {}
    for code in raw:
        order.setdefault(label_of(code, missing), _sort_key(code))
    for child, par in (hierarchy or {}).items():
        c, p = label_of(child, missing), label_of(par, missing)
        if c == p:
            raise ValueError(f"{name}: {c!r} is its own parent")
        if c == TOTAL:
            raise ValueError(f"{name}: the code {TOTAL!r} is reserved for the grand total")
        parent_of[c] = p
        order.setdefault(c, _sort_key(child))
        if p != TOTAL:
            order.setdefault(p, _sort_key(par))
    if has_missing:
        order.setdefault(missing, (2, 0.0, missing))
    if TOTAL in order:
        raise ValueError(f"{name}: the code {TOTAL!r} is reserved for the grand total")
    kids: dict[str, list[str]] = {TOTAL: []}
    for label in order:
        kids.setdefault(label, [])
    for label in order:
        kids[parent_of.get(label, TOTAL)].append(label)
    for lst in kids.values():
        lst.sort(key=lambda lab: order[lab])
    labels: list[str] = []
    parents: list[int] = []
    depths: list[int] = []
    stack: list[tuple[str, int, int]] = [(TOTAL, -1, 0)]
    seen: set[str] = set()
    while stack:
        label, par, dep = stack.pop()
        if label in seen:
            raise ValueError(f"{name}: the hierarchy has a cycle through {label!r}")
        seen.add(label)
        me = len(labels)
        labels.append(label)
        parents.append(par)
        depths.append(dep)
        stack.extend((k, me, dep + 1) for k in reversed(kids[label]))
    if len(seen) != len(order) + 1:
        raise ValueError(f"{name}: the hierarchy has a cycle (codes unreachable from the total)")
    return Dimension(name, tuple(labels), tuple(parents), tuple(depths))


@dataclass(frozen=True, eq=False)
class Table:
    """Counts of every cell (margins and subtotals included) and the additive relations."""

    dims: tuple[Dimension, ...]
    counts: np.ndarray  # int64, flat, C order over the dimensions' labels
    relations: sp.csr_matrix = field(repr=False)  # n_relations x n_cells; A @ counts == 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dims)

    @property
    def n_cells(self) -> int:
        return int(self.counts.size)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dims)

    def cell(self, i: int) -> tuple[str, ...]:
        idx = np.unravel_index(int(i), self.shape)
        return tuple(d.labels[k] for d, k in zip(self.dims, idx, strict=True))

    def index(self, cell: Sequence[str]) -> int:
        if len(cell) != len(self.dims):
            raise KeyError(cell)
        pos = tuple(d.index[label] for d, label in zip(self.dims, cell, strict=True))
        return int(np.ravel_multi_index(pos, self.shape))

    def count(self, cell: Sequence[str]) -> int:
        return int(self.counts[self.index(cell)])

    def cells(self) -> Iterator[tuple[str, ...]]:
        for i in range(self.n_cells):
            yield self.cell(i)

    @cached_property
    def label_index(self) -> np.ndarray:
        """n_cells x n_dims array of each cell's label index in every dimension."""
        grids = np.unravel_index(np.arange(self.n_cells), self.shape)
        return np.stack(grids, axis=1).astype(np.int32)

    @cached_property
    def margin_level(self) -> np.ndarray:
        """Per cell, the number of dimensions in which its label is a total or a subtotal."""
        level = np.zeros(self.n_cells, dtype=np.int32)
        for k, d in enumerate(self.dims):
            level += (~d.is_leaf)[self.label_index[:, k]]
        return level

    @property
    def grand_total(self) -> int:
        return int(self.counts[0])

    def check(self) -> None:
        """Raise if the counts break a relation (they never should)."""
        if self.relations.shape[0] and np.any(self.relations @ self.counts):
            raise AssertionError("table counts are not additive")

    def frame(self) -> pd.DataFrame:
        """Long form: one row per cell, one column per dimension, then ``count``."""
        cols = {
            d.name: np.asarray(d.labels, dtype=object)[self.label_index[:, k]]
            for k, d in enumerate(self.dims)
        }
        cols["count"] = self.counts
        return pd.DataFrame(cols)


def relation_matrix(dims: Sequence[Dimension]) -> sp.csr_matrix:
    """The relations of a table over ``dims`` (see the module docstring)."""
    shape = tuple(d.size for d in dims)
    n = int(np.prod(shape)) if shape else 1
    cell_ids = np.arange(n, dtype=np.int64).reshape(shape)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    next_row = 0
    for axis, dim in enumerate(dims):
        moved = np.moveaxis(cell_ids, axis, -1)
        for par, kids in dim.groups():
            parents = moved[..., par].ravel()
            children = moved[..., list(kids)].reshape(parents.size, len(kids))
            r = next_row + np.arange(parents.size)
            next_row += parents.size
            rows += [r, np.repeat(r, len(kids))]
            cols += [parents, children.ravel()]
            vals += [np.ones(parents.size), -np.ones(children.size)]
    if not rows:
        return sp.csr_matrix((0, n))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(next_row, n)
    )


def build_table(
    data: pd.DataFrame,
    rows: str | Sequence[str],
    col: str | None = None,
    hierarchies: Mapping[str, Mapping[object, object]] | None = None,
    *,
    missing: str = MISSING,
    weights: str | None = None,
) -> Table:
    """Count the units of ``data`` by ``rows`` (one or more variables) and ``col``.

    ``hierarchies`` maps a variable to its ``code -> parent code`` map; parent codes become
    subtotal cells, under the grand total. ``weights`` names an optional integer column of
    frequencies (one row then stands for that many units). Dimensions are in the order
    rows..., col.
    """
    names = [rows] if isinstance(rows, str) else list(rows)
    if col is not None:
        names.append(col)
    if not names:
        raise ValueError("a table needs at least one variable")
    if len(set(names)) != len(names):
        raise ValueError("a variable appears twice")
    hierarchies = hierarchies or {}
    unknown = set(hierarchies) - set(names)
    if unknown:
        raise ValueError(f"hierarchies for variables not in the table: {sorted(unknown)}")
    dims: list[Dimension] = []
    codes: list[np.ndarray] = []
    for name in names:
        series = data[name]
        factor, uniques = pd.factorize(series.astype(object), use_na_sentinel=False)
        uniques = list(uniques)
        dim = make_dimension(name, uniques, hierarchies.get(name), missing)
        positions = np.array([dim.index[label_of(u, missing)] for u in uniques], dtype=np.int64)
        inner = [dim.labels[p] for p in positions if not dim.is_leaf[p]]
        if inner:
            raise ValueError(f"{name}: data codes {inner[:5]} are parents in the hierarchy")
        dims.append(dim)
        codes.append(positions[factor] if len(uniques) else np.zeros(0, dtype=np.int64))
    shape = tuple(d.size for d in dims)
    counts = np.zeros(shape, dtype=np.int64)
    w = (
        np.ones(len(data), dtype=np.int64)
        if weights is None
        else data[weights].to_numpy(dtype=np.int64)
    )
    if len(data):
        np.add.at(counts, tuple(codes), w)
    for axis, dim in enumerate(dims):
        moved = np.moveaxis(counts, axis, -1)  # a view: writes go to counts
        # Bottom-up: a label's children come after it in pre-order, so walk backwards.
        for i in range(dim.size - 1, -1, -1):
            kids = dim.children[i]
            if kids:
                moved[..., i] = moved[..., list(kids)].sum(axis=-1)
    table = Table(tuple(dims), counts.ravel().copy(), relation_matrix(dims))
    table.check()
    return table


def table_from_counts(dims: Sequence[Dimension], leaf_counts: Mapping[tuple, int]) -> Table:
    """A table from counts of leaf cells (keys: one label per dimension); margins are summed."""
    shape = tuple(d.size for d in dims)
    counts = np.zeros(shape, dtype=np.int64)
    for cell, value in leaf_counts.items():
        pos = tuple(d.index[str(lab)] for d, lab in zip(dims, cell, strict=True))
        if not all(d.is_leaf[p] for d, p in zip(dims, pos, strict=True)):
            raise ValueError(f"{cell} is not a leaf cell")
        counts[pos] = value
    for axis, dim in enumerate(dims):
        moved = np.moveaxis(counts, axis, -1)
        for i in range(dim.size - 1, -1, -1):
            kids = dim.children[i]
            if kids:
                moved[..., i] = moved[..., list(kids)].sum(axis=-1)
    table = Table(tuple(dims), counts.ravel().copy(), relation_matrix(dims))
    table.check()
    return table
