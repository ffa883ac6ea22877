"""Tables protected together: linked tables of one release, and successive releases.

An attacker holds everything ever published. Two tables of one release that share a cell
(the same unit, filter and labels; for example the "2023" margin of year × sex and of
year × citizenship) give two relations on one number; a table published in March and
again in June, with a few more cases, gives `June = March + new cases` on every cell,
with the new cases never negative. A suppressed cell that is safe in its own table may be
narrowed by such combinations, so a new table is released only when the attacker's
linear programs over the joint system (every published table involved, the ties between
identical cells, the growth between releases) leave every withheld cell of every table,
old and new, at least its protection width.

The new table's pattern is first made consistent: a cell withheld in a linked table of
the same release is withheld here too, one shown there is shown here, and a cell withheld
in the previous release stays withheld (carried forward). If the joint audit still fails,
published cells of the new table are withheld one at a time, cheapest first (small
counts before totals, as the single-table costs rank them), among those sharing a
relation with the cells whose protection fails, until it passes; a table for which
nothing works is not released. (When a release adds only a few persons, its public total
grows by that few, which can pin a category that had none before: such a table is not
released.)
Withholding more cells never narrows an interval, so the new table's own protection holds
throughout.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from research.sdc.audit import PRIMARY, PUBLISHED, SECONDARY, AuditResult, audit
from research.sdc.suppress import Protection, cell_costs
from research.sdc.table import Table


@dataclass
class Published:
    """A table already published: every value it shows is known to everyone."""

    table: Table
    status: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    keys: Sequence[Hashable]  # one per cell; equal keys are the same number
    same_release: bool  # linked (tied) if True, an earlier release (growth) if False


def too_narrow(audit: AuditResult) -> list[int]:
    """Primary cells whose joint interval is narrower than their protection width.

    The rule is the width of the interval (at least the threshold, by default): a
    cell of 7 under a published total of 10 lies anywhere in [0, 10] for the attacker, which
    protects it although the interval cannot reach 7 + 5. The single-table protection asks
    for more (room on both sides), so a table that passed alone passes here as long as
    nothing narrows it.
    """
    primary = np.flatnonzero(audit.status == PRIMARY)
    width = audit.upper[primary] - audit.lower[primary]
    needed = audit.required_lower[primary] + audit.required_upper[primary]
    return [int(i) for i in primary[~(width >= needed - 1e-6)]]


@dataclass
class JointResult:
    audit: AuditResult
    withheld_for_links: int = 0  # cells withheld to match linked or earlier tables
    withheld_for_audit: int = 0  # cells withheld by the repair
    parts: int = 0
    failures: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


class NotReleasable(Exception):
    """No pattern of this table keeps every withheld cell protected."""


def _index(keys: Sequence[Hashable]) -> dict:
    return {key: i for i, key in enumerate(keys)}


def make_consistent(new: Protection, keys: Sequence[Hashable], others: list[Published]) -> int:
    """Match `new` to the tables already published: withhold what a linked table of the same
    release or the last release withholds, and show what a linked table already shows (a
    number public in one table is no secret in another; the joint audit then makes sure
    the new table's own withheld cells are still protected without it)."""
    changed = 0
    position = _index(keys)
    status = new.status
    for other in others:
        for j, key in enumerate(other.keys):
            i = position.get(key)
            if i is None:
                continue
            if other.status[j] != PUBLISHED:
                if status[i] == PUBLISHED and new.table.counts[i] > 0:
                    status[i] = SECONDARY
                    changed += 1
            elif other.same_release and status[i] == SECONDARY:
                status[i] = PUBLISHED
                changed += 1
    return changed


def _joint_system(new: Protection, keys, others: list[Published]):
    """One relation matrix over every cell of every table, plus ties and growth slacks."""
    tables = [(new.table, new.status, new.lower, new.upper, keys)] + [
        (o.table, o.status, o.lower, o.upper, o.keys) for o in others
    ]
    offsets = np.cumsum([0] + [t.n_cells for t, *_ in tables])
    blocks = [t.relations for t, *_ in tables]
    counts = [t.counts for t, *_ in tables]
    status = [np.asarray(s, dtype=np.int8) for _t, s, *_ in tables]
    lower = [np.asarray(lo, dtype=np.int64) for _t, _s, lo, *_ in tables]
    upper = [np.asarray(up, dtype=np.int64) for *_, up, _k in tables]
    rows, cols, vals = [], [], []
    slack_counts = []
    n_cells = int(offsets[-1])
    row = 0
    position = _index(keys)
    for k, other in enumerate(others, start=1):
        for j, key in enumerate(other.keys):
            i = position.get(key)
            if i is None:
                continue
            a, b = int(offsets[0] + i), int(offsets[k] + j)
            if other.same_release:  # the same number in two tables
                rows += [row, row]
                cols += [a, b]
                vals += [1.0, -1.0]
                row += 1
            else:  # new = old + cases added since, never negative
                added = int(new.table.counts[i]) - int(other.table.counts[j])
                if added < 0:
                    continue  # withdrawals: the attacker cannot rely on growth here
                slack = n_cells + len(slack_counts)
                slack_counts.append(added)
                rows += [row, row, row]
                cols += [a, b, slack]
                vals += [1.0, -1.0, -1.0]
                row += 1
    n = n_cells + len(slack_counts)
    base = sp.block_diag(blocks, format="csr") if blocks else sp.csr_matrix((0, n_cells))
    base = sp.hstack([base, sp.csr_matrix((base.shape[0], len(slack_counts)))], format="csr")
    links = sp.csr_matrix((vals, (rows, cols)), shape=(row, n))
    A = sp.vstack([base, links], format="csr")
    slack = np.asarray(slack_counts, dtype=np.int64)
    return (
        A,
        np.concatenate([*counts, slack]),
        np.concatenate([*status, np.full(slack.size, SECONDARY, dtype=np.int8)]),
        np.concatenate([*lower, np.zeros(slack.size, dtype=np.int64)]),
        np.concatenate([*upper, np.zeros(slack.size, dtype=np.int64)]),
        offsets,
    )


def joint_audit(new: Protection, keys, others: list[Published]) -> AuditResult:
    A, counts, status, lower, upper, _offsets = _joint_system(new, keys, others)
    return audit(A, counts, status, lower, upper)


def _candidates(new: Protection, failing_new_cells: set[int]) -> np.ndarray:
    """Published cells of the new table that share a relation with a suppressed cell."""
    relations = new.table.relations.tocsr()
    suppressed = np.flatnonzero(new.status != PUBLISHED)
    touching = relations[:, sorted(set(suppressed.tolist()) | failing_new_cells)]
    rows = np.unique(touching.nonzero()[0])
    cells = np.unique(relations[rows].nonzero()[1]) if rows.size else np.zeros(0, dtype=int)
    return cells[(new.status[cells] == PUBLISHED) & (new.table.counts[cells] > 0)]


def protect_with(
    new: Protection, keys: Sequence[Hashable], others: list[Published], max_steps: int = 500
) -> JointResult:
    """Make `new` safe together with `others` (modifies `new.status`); raise if impossible."""
    result = JointResult(audit=None, parts=1 + len(others))  # type: ignore[arg-type]
    result.withheld_for_links = make_consistent(new, keys, others)
    frozen = set()  # cells published by a linked table: public already, never worth hiding
    position = _index(keys)
    for other in others:
        if other.same_release:
            for j, key in enumerate(other.keys):
                if key in position and other.status[j] == PUBLISHED:
                    frozen.add(position[key])
    costs = cell_costs(new.table)
    for _step in range(max_steps):
        outcome = joint_audit(new, keys, others)
        narrow = too_narrow(outcome)
        if not narrow:
            result.audit = outcome
            new.audit = outcome
            return result
        failing = {f for f in narrow if f < new.table.n_cells}
        candidates = [c for c in _candidates(new, failing) if int(c) not in frozen]
        if not candidates:
            break
        best = min(candidates, key=lambda c: (costs[c], c))
        new.status[best] = SECONDARY
        result.withheld_for_audit += 1
    raise NotReleasable(
        "No pattern of withheld cells keeps this table and the tables already published "
        "protected together."
    )


def primaries_of(protection: Protection) -> np.ndarray:
    return protection.status == PRIMARY
