"""k-anonymity by full-domain generalisation followed by local suppression.

Plain numpy/pandas, no Django. The input is a DataFrame of integer-coded research variables;
negative codes are missing codes (-99 unknown, -98 declined, -97 not applicable, -96 suppressed)
and stay distinct from each other and from real (non-negative) codes.

Procedure
---------
1. Every quasi-identifier (QI) column is factorised once; the frame is reduced to its distinct
   QI combinations with counts (``_Table``). A lattice node (one generalisation level per QI) is
   evaluated by rolling up the smallest cached table of a node below it, so most evaluations
   touch far fewer rows than the frame has.
2. A node is *acceptable* when the records in equivalence classes smaller than k are at most
   ``max_suppressed_share`` of the rows. This predicate is monotone (a class of size >= k stays
   >= k when any QI is generalised further): an acceptable node tags every node above it as
   acceptable, an unacceptable one every node below it as unacceptable.
3. Information loss (what is minimised, in [0, 1]): every QI cell costs ``w_j * L_j / H_j``
   when it holds a real code at level ``L_j`` of a hierarchy of height ``H_j`` (0 when
   ``H_j == 0``), 1 * ``w_j`` when it is SUPPRESSED, and 0 when it holds one of the other
   missing codes; the sum is divided by ``rows * sum(w)``. The generalisation part alone
   (``bound``) is a lower bound of a node's loss and grows up the lattice. Search: a greedy
   descent from the top (largest bound drop first) gives a minimal acceptable node and a first
   loss; then nodes are visited in increasing bound order until the bound reaches the best
   loss found; an untagged node is settled Flash-style (a path upwards through untagged nodes
   below the best loss, binary-searched, each evaluation tagging a cone), and every acceptable
   node gets local suppression on its class table and its exact loss. A node whose
   suppression (donors included) touches more records than the limit is rejected. If no node
   is acceptable, the top of the lattice is used and the result reports the share actually
   suppressed.
4. Local suppression at a node: (a) in rounds, every record in a class smaller than k gets one
   more real QI value replaced by SUPPRESSED; the attribute is the cheapest one whose
   suppression merges the record into an existing class of size >= k, otherwise the one whose
   target class would gather most records (then cheapest, then most distinct values, then
   column order). From the second round on, a small class that no single suppression rescues
   and that needs fewer donor values (``(k - size) * suppressed positions``) than its own
   ``size`` is completed instead with records from the surplus (size - k) of larger classes
   that agree with it outside its suppressed positions; those positions are suppressed in the
   donors. Donors are limited to what the record limit leaves over. Missing codes are never
   touched in this phase. (b) Records still in classes smaller than k after all their real
   values are suppressed are grouped by their pattern of missing codes; records with the same
   pattern are taken from the surplus of the largest classes, or a whole smallest class is
   moved, until the pattern has k records. A pattern with no possible donor has its missing
   codes replaced by SUPPRESSED (never by another missing code or a real value) and joins the
   all-SUPPRESSED class, which is topped up the same way. Rows are never dropped; only a frame
   with fewer than k rows (or no QIs) can end up with classes smaller than k, and
   ``k_achieved`` says so.

Everything is deterministic: ties are broken by fixed orders (column order, lexicographic node
order, row position).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

UNKNOWN = -99
DECLINED = -98
NOT_APPLICABLE = -97
SUPPRESSED = -96
MISSING_CODES = (UNKNOWN, DECLINED, NOT_APPLICABLE, SUPPRESSED)

_MAX_KEY = 2**62
_MAX_NODES = 2_000_000
_CACHE_BYTES = 96 * 2**20
_DENSE_LIMIT = 1 << 24  # largest key space counted in a dense array
_MAX_CANDIDATES = 256
_EPS = 1e-12
_TOP_UP = True  # complete small classes with donors during the rounds (see _top_up)


@dataclass(frozen=True)
class Hierarchy:
    """Generalisation levels of one quasi-identifier.

    ``levels[0]`` is the identity (an empty dict will do); ``levels[i]`` maps each non-negative
    code to its generalised code at level i, as a ``dict[int, int]`` or a numpy lookup array
    indexed by code. Generalised codes must be non-negative, and level i+1 must be a function
    of level i (a coarser partition). Missing codes map to themselves at every level. An empty
    ``levels`` means the QI is never generalised (only suppressed).
    """

    levels: tuple[Mapping[int, int] | np.ndarray, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(self.levels))

    @property
    def height(self) -> int:
        return max(len(self.levels), 1) - 1

    @classmethod
    def identity(cls) -> Hierarchy:
        return cls(({},))

    @classmethod
    def chain(cls, *steps: Mapping[int, int]) -> Hierarchy:
        """Levels from step maps: ``steps[0]`` maps codes to level 1, ``steps[1]`` maps level-1
        codes to level 2, and so on."""
        levels: list[dict[int, int]] = [{}]
        current: dict[int, int] | None = None
        for number, step in enumerate(steps, start=1):
            try:
                if current is None:
                    current = {int(c): int(g) for c, g in step.items()}
                else:
                    current = {c: int(step[g]) for c, g in current.items()}
            except KeyError as exc:
                raise ValueError(f"step {number} has no code for {exc.args[0]}") from None
            levels.append(current)
        return cls(tuple(levels))


@dataclass
class Result:
    """What ``anonymise`` did.

    ``frame``: same index, columns and dtypes as the input; only QI columns changed.
    ``levels``: generalisation level chosen per QI. ``suppressed_values``: per QI, cells set to
    SUPPRESSED by local suppression. ``k_achieved``: smallest equivalence class over the QIs
    (SUPPRESSED and missing codes counted as ordinary values); below ``k`` only when the
    frame has fewer than k rows. ``l_diversity``: per sensitive column, the fewest distinct
    values in any class. ``information_loss``: the minimised measure (module docstring).
    ``suppressed_records``/``suppressed_share``: rows with at least one suppressed value;
    ``within_limit`` is False when no lattice node met ``max_suppressed_share`` and the top
    node was used regardless.
    """

    frame: pd.DataFrame
    levels: dict[str, int]
    suppressed_values: dict[str, int]
    suppressed_total: int
    k_achieved: int
    l_diversity: dict[str, int]
    information_loss: float
    classes: int
    empty: bool
    k: int = 0
    suppressed_records: int = 0
    suppressed_share: float = 0.0
    within_limit: bool = True
    nodes_evaluated: int = 0
    candidates_evaluated: int = 0

    @property
    def satisfied(self) -> bool:
        """True when every equivalence class has at least k rows."""
        return self.empty or self.k_achieved >= self.k


# --------------------------------------------------------------------------- quasi-identifiers


@dataclass
class _QI:
    name: str
    weight: float
    height: int
    real_count: int
    vocab: list[np.ndarray]  # per level: sorted distinct codes present at that level
    index: list[np.ndarray]  # per level: dense level index of each level-0 dense value
    row_index: np.ndarray  # dense level-0 index of every row
    _up: dict = field(default_factory=dict)

    def card(self, level: int) -> int:
        return len(self.vocab[level])

    def up(self, a: int, b: int) -> np.ndarray:
        """Map from dense indices at level a to dense indices at level b (b >= a)."""
        got = self._up.get((a, b))
        if got is None:
            got = np.empty(self.card(a), dtype=_dense_dtype(self.card(b)))
            got[self.index[a]] = self.index[b]
            self._up[(a, b)] = got
        return got


def _map_level(level, codes: np.ndarray, name: str, number: int) -> np.ndarray:
    if isinstance(level, Mapping):
        try:
            out = np.array([level[int(c)] for c in codes], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(
                f"hierarchy of {name!r}: level {number} has no code for {exc.args[0]}"
            ) from None
    else:
        lookup = np.asarray(level)
        if lookup.ndim != 1 or not np.issubdtype(lookup.dtype, np.integer):
            raise ValueError(f"hierarchy of {name!r}: level {number} is not an integer lookup")
        if codes.size and int(codes.max()) >= lookup.size:
            raise ValueError(
                f"hierarchy of {name!r}: level {number} has no code for {int(codes.max())}"
            )
        out = lookup[codes].astype(np.int64)
    if out.size and int(out.min()) < 0:
        raise ValueError(f"hierarchy of {name!r}: level {number} maps a code to a negative code")
    return out


def _prepare_qi(name: str, column: pd.Series, hierarchy: Hierarchy, weight: float) -> _QI:
    if not isinstance(hierarchy, Hierarchy):
        raise ValueError(f"quasi-identifier {name!r}: expected a Hierarchy")
    values = column.to_numpy()
    row_index, uniques = pd.factorize(values, sort=True)
    u0 = np.asarray(uniques, dtype=np.int64)
    real = u0 >= 0
    info = np.iinfo(column.dtype)
    levels = hierarchy.levels or ({},)
    first = levels[0]
    if isinstance(first, Mapping):
        bad = [c for c, g in first.items() if int(c) != int(g)]
    else:
        lookup = np.asarray(first)
        codes = u0[real]
        if codes.size and int(codes.max()) >= lookup.size:
            bad = [int(codes.max())]
        else:
            bad = codes[lookup[codes] != codes].tolist()
    if bad:
        raise ValueError(f"hierarchy of {name!r}: level 0 must be the identity")
    vocab, index = [u0], [np.arange(len(u0), dtype=np.int64)]
    for number in range(1, len(levels)):
        generalised = u0.copy()
        generalised[real] = _map_level(levels[number], u0[real], name, number)
        if generalised.size and int(generalised.max()) > info.max:
            raise ValueError(f"hierarchy of {name!r}: level {number} codes overflow {column.dtype}")
        level_vocab, level_index = np.unique(generalised, return_inverse=True)
        previous = index[-1]
        up = np.full(len(vocab[-1]), -1, dtype=np.int64)
        up[previous] = level_index
        if not np.array_equal(up[previous], level_index):
            raise ValueError(
                f"hierarchy of {name!r}: level {number} is not a coarsening of level {number - 1}"
            )
        vocab.append(level_vocab)
        index.append(level_index.astype(np.int64))
    return _QI(
        name=name,
        weight=float(weight),
        height=len(levels) - 1,
        real_count=int((values >= 0).sum()),
        vocab=vocab,
        index=index,
        row_index=row_index.astype(_dense_dtype(len(u0))),
    )


# --------------------------------------------------------------------------- grouping helpers


def _dense_dtype(card: int):
    return np.int16 if card <= np.iinfo(np.int16).max else np.int32


def _first_occurrences(inv: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each code of ``pd.factorize(..., sort=False)``."""
    if inv.size == 0:
        return np.empty(0, dtype=np.int64)
    running = np.maximum.accumulate(inv)
    new = np.empty(inv.size, dtype=bool)
    new[0] = True
    new[1:] = running[1:] > running[:-1]
    return np.flatnonzero(new)


def _group(columns: Sequence[np.ndarray], cards: Sequence[int], length: int):
    """Factorise rows of integer columns (dense codes < card): (inverse, first, groups)."""
    key = np.zeros(length, dtype=np.int64)
    product = 1
    for column, card in zip(columns, cards, strict=True):
        if product * card > _MAX_KEY:
            key, uniques = pd.factorize(key)
            key = key.astype(np.int64)
            product = max(len(uniques), 1)
            if product * card > _MAX_KEY:
                raise ValueError("too many distinct quasi-identifier combinations")
        key *= card
        key += column
        product *= card
    inv, uniques = pd.factorize(key)
    inv = inv.astype(np.int64)
    return inv, _first_occurrences(inv), len(uniques)


@dataclass
class _Table:
    node: tuple[int, ...]
    columns: list[np.ndarray]  # per QI: dense level index of every class
    counts: np.ndarray  # (classes,) rows per class
    inverse: np.ndarray | None = None  # source-table row -> class (kept for the final node)

    @property
    def nbytes(self) -> int:
        return self.counts.nbytes + sum(c.nbytes for c in self.columns)


def _rollup(qis: list[_QI], source: _Table, node: tuple[int, ...], keep_inverse=False) -> _Table:
    columns = [
        qi.up(source.node[j], node[j]).take(source.columns[j])
        if source.node[j] != node[j]
        else source.columns[j]
        for j, qi in enumerate(qis)
    ]
    cards = [qi.card(node[j]) for j, qi in enumerate(qis)]
    rows = len(source.counts)
    product = 1
    for card in cards:
        product *= card
    if product <= min(max(rows, 1 << 16), _DENSE_LIMIT):
        # small key space: count into a dense array (no hashing); classes in key order
        key = np.zeros(rows, dtype=np.int64)
        for column, card in zip(columns, cards, strict=True):
            key *= card
            key += column
        dense = np.bincount(key, weights=source.counts, minlength=product)
        present = np.flatnonzero(dense)
        counts = dense[present].astype(np.int64)
        decoded, rest = [], present.copy()
        for card in reversed(cards):
            decoded.append((rest % card).astype(_dense_dtype(card)))
            rest //= card
        inv = None
        if keep_inverse:
            remap = np.zeros(product, dtype=np.int64)
            remap[present] = np.arange(len(present))
            inv = remap[key]
        return _Table(node, decoded[::-1], counts, inv)
    inv, first, groups = _group(columns, cards, rows)
    counts = np.bincount(inv, weights=source.counts, minlength=groups).astype(np.int64)
    return _Table(node, [c[first] for c in columns], counts, inv if keep_inverse else None)


# --------------------------------------------------------------------------- local suppression


@dataclass
class _Suppression:
    values: np.ndarray  # (rows, q) final codes per class row (split rows appended)
    counts: np.ndarray
    root: np.ndarray  # original class row of every row (itself for original rows)
    base: np.ndarray  # (original rows, q) generalised codes before suppression


def _top_up(arrays, key, ukey, inv, size, has_safe, k, budget, sup_id, strides):
    """Complete small classes with records from the surplus of large ones.

    A small class that already has suppressed values, has no single suppression that merges
    it into a class of size >= k, and would cost fewer values to complete (need * suppressed
    values per donor) than one more suppressed value for each of its records, takes ``k - size``
    records from classes with more than k records that agree with it on every position it has
    not suppressed and hold a real (or already suppressed) value where it has; those records
    get the same positions suppressed. At most ``budget`` records are taken in all.
    Returns the extended arrays, a mask of the classes completed and the records taken.
    """
    ids, values, real, counts, root = arrays
    groups = len(ukey)
    topped = np.zeros(groups, dtype=bool)
    _, rep = np.unique(inv, return_index=True)
    small = np.flatnonzero((size > 0) & (size < k))
    small_mask = values[rep[small]] == SUPPRESSED
    nsup = small_mask.sum(axis=1)
    nreal = real[rep[small]].sum(axis=1)
    need = k - size[small]
    eligible = (nsup >= 1) & (nreal >= 1) & ~has_safe[small] & (need * nsup <= size[small])
    eligible &= need <= budget
    if not eligible.any():
        return arrays, topped, 0
    targets, masks = small[eligible], small_mask[eligible]
    cost = (need * nsup)[eligible]
    order = np.lexsort((ukey[targets], cost))
    targets, masks = targets[order], masks[order]
    surplus = np.where(size >= k, size - k, 0)
    donors_all = np.flatnonzero(surplus > 0)
    if donors_all.size == 0:
        return arrays, topped, 0
    donor_values = values[rep[donors_all]]
    donor_ids = ids[rep[donors_all]]
    donor_key = key[rep[donors_all]]
    lookups = {}
    plan = []
    used = 0
    for t, mask in zip(targets, masks, strict=True):
        need_t = int(k - size[t])
        if need_t > budget - used:
            continue
        signature = mask.tobytes()
        if signature not in lookups:
            fits = ((donor_values[:, mask] >= 0) | (donor_values[:, mask] == SUPPRESSED)).all(1)
            d = donors_all[fits]
            shift = (sup_id[mask] - donor_ids[fits][:, mask]) * strides[mask]
            masked = donor_key[fits] + shift.sum(axis=1)
            by = np.lexsort((ukey[d], masked))
            lookups[signature] = (masked[by], d[by])
        masked, d = lookups[signature]
        lo, hi = np.searchsorted(masked, ukey[t]), np.searchsorted(masked, ukey[t], "right")
        if lo == hi:
            continue
        cands = d[lo:hi]
        avail = surplus[cands]
        if avail.sum() < need_t:
            continue
        left = need_t
        for g in cands[np.lexsort((ukey[cands], -avail))]:
            amount = int(min(surplus[g], left))
            if amount:
                plan.append((int(g), amount, mask))
                surplus[g] -= amount
                left -= amount
            if not left:
                break
        used += need_t
        topped[t] = True
    if not plan:
        return arrays, topped, 0
    by_group = np.argsort(inv, kind="stable")
    starts = np.searchsorted(inv[by_group], np.arange(groups + 1))
    new_ids, new_values, new_counts, new_root = [], [], [], []
    for g, amount, mask in plan:
        left = amount
        for r in by_group[starts[g] : starts[g + 1]][::-1]:
            a = int(min(counts[r], left))
            if a == 0:
                continue
            counts[r] -= a
            row_ids, row_values = ids[r].copy(), values[r].copy()
            row_ids[mask] = sup_id[mask]
            row_values[mask] = SUPPRESSED
            new_ids.append(row_ids)
            new_values.append(row_values)
            new_counts.append(a)
            new_root.append(root[r])
            left -= a
            if not left:
                break
    ids = np.vstack([ids, np.array(new_ids)])
    values = np.vstack([values, np.array(new_values)])
    new_values_arr = np.array(new_values)
    real = np.vstack([real, new_values_arr >= 0])
    counts = np.concatenate([counts, np.array(new_counts, dtype=np.int64)])
    root = np.concatenate([root, np.array(new_root, dtype=np.int64)])
    return (ids, values, real, counts, root), topped, used


def _local_suppression(
    base: np.ndarray,
    counts: np.ndarray,
    k: int,
    costs: np.ndarray,
    distinct: np.ndarray,
    budget: int = 0,
) -> _Suppression:
    rows, q = base.shape
    values = base.copy()
    counts = counts.copy()
    root = np.arange(rows, dtype=np.int64)
    if rows == 0 or q == 0:
        return _Suppression(values, counts, root, base)
    vocab = [np.unique(np.append(values[:, j], SUPPRESSED)) for j in range(q)]
    cards = np.array([len(v) for v in vocab], dtype=np.int64)
    strides = np.ones(q, dtype=np.int64)
    product = 1
    for j in range(q - 1, -1, -1):
        strides[j] = product
        product *= int(cards[j])
        if product > _MAX_KEY:
            raise ValueError("too many distinct quasi-identifier combinations")
    sup_id = np.array([np.searchsorted(vocab[j], SUPPRESSED) for j in range(q)], dtype=np.int64)
    ids = np.empty((rows, q), dtype=np.int64)
    for j in range(q):
        ids[:, j] = np.searchsorted(vocab[j], values[:, j])
    real = values >= 0
    distinct_rank = -distinct.astype(np.float64)

    def keys() -> np.ndarray:
        return ids @ strides

    # (a) rounds: one more real value suppressed per record of a small class, unless the
    # class can be topped up with k - size records that share its pattern (see _top_up)
    for round_number in range(4 * q + 4):  # q rounds suffice; top-ups may add a few
        key = keys()
        ukey, inv = np.unique(key, return_inverse=True)
        size = np.bincount(inv, weights=counts).astype(np.int64)
        small = size[inv] < k
        candidates = np.flatnonzero(small & real.any(axis=1))
        if candidates.size == 0:
            break
        oo, jj = np.nonzero(real[candidates])
        o = candidates[oo]
        target = key[o] + (sup_id[jj] - ids[o, jj]) * strides[jj]
        pos = np.minimum(np.searchsorted(ukey, target), len(ukey) - 1)
        existing = np.where(ukey[pos] == target, size[pos], 0)
        _, tinv = np.unique(target, return_inverse=True)
        mass = existing + np.bincount(tinv, weights=counts[o]).astype(np.int64)[tinv]
        safe = existing >= k
        if _TOP_UP and round_number and budget > 0:
            has_safe = np.zeros(len(ukey), dtype=bool)
            has_safe[inv[o[safe]]] = True
            arrays = (ids, values, real, counts, root)
            arrays, topped, used = _top_up(
                arrays, key, ukey, inv, size, has_safe, k, budget, sup_id, strides
            )
            ids, values, real, counts, root = arrays
            budget -= used
            if topped.any():
                keep = ~topped[inv[o]]
                o, jj, mass, safe = o[keep], jj[keep], mass[keep], safe[keep]
                if o.size == 0:
                    continue
        cost = costs[jj]
        order = np.lexsort(
            (jj, distinct_rank[jj], cost, -mass, np.where(safe, cost, 0.0), ~safe, o)
        )
        ordered = o[order]
        pick = order[np.r_[True, ordered[1:] != ordered[:-1]]]
        po, pj = o[pick], jj[pick]
        ids[po, pj] = sup_id[pj]
        values[po, pj] = SUPPRESSED
        real[po, pj] = False

    # (b) residual classes: all real values suppressed, still smaller than k
    key = keys()
    ukey, ginv = np.unique(key, return_inverse=True)
    gsize = np.bincount(ginv, weights=counts).astype(np.int64)
    if (real & (gsize[ginv] < k)[:, None]).any():  # never hand real values to donors
        raise RuntimeError("internal error: a small class kept real values")
    if not ((gsize > 0) & (gsize < k)).any():
        return _Suppression(values, counts, root, base)
    missing = (values < 0) & (values != SUPPRESSED)
    pattern_key = np.where(missing, ids, sup_id) @ strides
    _, first_rows = np.unique(ginv, return_index=True)
    g_pattern = pattern_key[first_rows]
    all_suppressed = int(sup_id @ strides)
    found = np.flatnonzero(ukey == all_suppressed)
    if found.size:
        a_group = int(found[0])
    else:
        a_group = len(ukey)
        ukey = np.append(ukey, all_suppressed)
        gsize = np.append(gsize, 0)
        g_pattern = np.append(g_pattern, all_suppressed)

    state = {"ids": ids, "values": values, "counts": counts, "root": root, "ginv": ginv}

    def move(rows_to_move: np.ndarray, group: int, pattern_ids, pattern_values) -> None:
        state["ids"][rows_to_move] = pattern_ids
        state["values"][rows_to_move] = pattern_values
        state["ginv"][rows_to_move] = group

    def take(target: int, donors: np.ndarray, need: int) -> None:
        member = np.flatnonzero(state["ginv"] == target)
        if member.size:
            pattern_ids = state["ids"][member[0]].copy()
            pattern_values = state["values"][member[0]].copy()
        else:  # the all-suppressed class, not present yet
            pattern_ids, pattern_values = sup_id.copy(), np.full(q, SUPPRESSED, dtype=np.int64)
        surplus = gsize[donors] - k
        if surplus.sum() >= need:
            order = np.lexsort((ukey[donors], -surplus))
            plan = []
            for g, s in zip(donors[order], surplus[order], strict=True):
                if need <= 0:
                    break
                t = int(min(s, need))
                if t > 0:
                    plan.append((int(g), t))
                    need -= t
        else:
            sizes = gsize[donors]
            g = int(donors[np.lexsort((ukey[donors], sizes))[0]])
            plan = [(g, int(gsize[g]))]
        for g, t in plan:
            members = np.flatnonzero(state["ginv"] == g)[::-1]
            left = t
            for r in members:
                if left == 0:
                    break
                available = int(state["counts"][r])
                amount = min(available, left)
                if amount == available:
                    move(np.array([r]), target, pattern_ids, pattern_values)
                else:
                    state["counts"][r] -= amount
                    state["ids"] = np.vstack([state["ids"], pattern_ids])
                    state["values"] = np.vstack([state["values"], pattern_values])
                    state["counts"] = np.append(state["counts"], amount)
                    state["root"] = np.append(state["root"], state["root"][r])
                    state["ginv"] = np.append(state["ginv"], target)
                left -= amount
            gsize[g] -= t
            gsize[target] += t

    groups = np.arange(len(ukey))
    for p in np.flatnonzero((gsize > 0) & (gsize < k)):
        if p == a_group or gsize[p] >= k:
            continue
        donors = np.flatnonzero((g_pattern == g_pattern[p]) & (gsize >= k) & (groups != p))
        if donors.size:
            take(int(p), donors, int(k - gsize[p]))
        else:  # no record shares this pattern of missing codes: suppress the codes too
            members = np.flatnonzero(state["ginv"] == p)
            move(members, a_group, sup_id, SUPPRESSED)
            gsize[a_group] += gsize[p]
            gsize[p] = 0
    if 0 < gsize[a_group] < k:
        donors = np.flatnonzero((g_pattern == all_suppressed) & (gsize >= k) & (groups != a_group))
        if not donors.size:
            donors = np.flatnonzero((gsize >= k) & (groups != a_group))
        if donors.size:
            take(a_group, donors, int(k - gsize[a_group]))
    return _Suppression(state["values"], state["counts"], state["root"], base)


def _suppression_stats(sup: _Suppression, qis: list[_QI], node: tuple[int, ...], total_w):
    before = sup.base[sup.root]
    newly = (sup.values == SUPPRESSED) & (before != SUPPRESSED)
    counts = sup.counts
    per_qi = (newly * counts[:, None]).sum(axis=0)
    records = int(counts[newly.any(axis=1)].sum())
    cell = np.zeros(sup.values.shape, dtype=np.float64)
    for j, qi in enumerate(qis):
        if qi.height:
            cell[:, j] = np.where(sup.values[:, j] >= 0, node[j] / qi.height, 0.0)
        cell[:, j] = np.where(sup.values[:, j] == SUPPRESSED, 1.0, cell[:, j])
        cell[:, j] *= qi.weight
    rows = int(counts.sum())
    loss = float((cell.sum(axis=1) * counts).sum() / (rows * total_w)) if total_w > 0 else 0.0
    return per_qi, records, loss


# --------------------------------------------------------------------------- lattice search


class _Search:
    def __init__(self, qis: list[_QI], table0: _Table, k: int, limit: int, total_w: float):
        self.qis, self.k, self.limit, self.total_w = qis, k, limit, total_w
        self.table0 = table0
        self.heights = np.array([qi.height for qi in qis], dtype=np.int64)
        size = int(np.prod(self.heights + 1))
        if size > _MAX_NODES:
            raise ValueError(f"generalisation lattice too large ({size} nodes)")
        grids = np.meshgrid(*[np.arange(h + 1) for h in self.heights], indexing="ij")
        self.nodes = np.stack([g.ravel() for g in grids], axis=1).astype(np.int8)
        self.strides = np.ones(len(qis), dtype=np.int64)
        for j in range(len(qis) - 2, -1, -1):
            self.strides[j] = self.strides[j + 1] * (self.heights[j + 1] + 1)
        rows = int(table0.counts.sum())
        self.increment = np.array(
            [
                qi.weight * qi.real_count / (qi.height * rows * total_w)
                if qi.height and total_w > 0
                else 0.0
                for qi in qis
            ]
        )
        self.bound = np.round(self.nodes @ self.increment, 12)
        self.state = np.zeros(len(self.nodes), dtype=np.int8)  # 1 acceptable, -1 not
        self.cache: dict[tuple[int, ...], _Table] = {}
        self.evaluated = 0
        self.preference = np.lexsort((np.arange(len(qis)), self.increment))

    def table(self, node: tuple[int, ...], keep_inverse=False) -> _Table:
        if keep_inverse:
            return _rollup(self.qis, self.table0, node, keep_inverse=True)
        if node == self.table0.node:
            return self.table0
        got = self.cache.get(node)
        if got is not None:
            return got
        best = self.table0
        target = np.array(node)
        for cached_node, cached in self.cache.items():
            if len(cached.counts) < len(best.counts) and (np.array(cached_node) <= target).all():
                best = cached
        if best is not self.table0:  # least recently used first
            self.cache[best.node] = self.cache.pop(best.node)
        table = _rollup(self.qis, best, node)
        used = sum(t.nbytes for t in self.cache.values())
        while self.cache and used + table.nbytes > _CACHE_BYTES:
            oldest = next(iter(self.cache))
            used -= self.cache.pop(oldest).nbytes
        if table.nbytes <= _CACHE_BYTES:
            self.cache[node] = table
        return table

    def acceptable(self, index: int) -> bool:
        if self.state[index]:
            return self.state[index] > 0
        table = self.table(tuple(int(x) for x in self.nodes[index]))
        self.evaluated += 1
        outliers = int(table.counts[table.counts < self.k].sum())
        node = self.nodes[index]
        unknown = self.state == 0
        if outliers <= self.limit:
            self.state[unknown & (self.nodes >= node).all(axis=1)] = 1
            return True
        self.state[unknown & (self.nodes <= node).all(axis=1)] = -1
        return False

    def descend(self) -> int | None:
        """A minimal acceptable node, reached greedily from the top (largest bound drop first);
        None when even the top is not acceptable."""
        current = len(self.nodes) - 1
        if not self.acceptable(current):
            return None
        while True:
            for j in self.preference[::-1]:
                if self.nodes[current, j] > 0:
                    below = current - int(self.strides[j])
                    if self.acceptable(below):
                        current = below
                        break
            else:
                return current

    def settle(self, start: int, ceiling: float) -> None:
        """Tag ``start``: binary search on a path upwards from it through untagged nodes whose
        bound is below ``ceiling`` (Flash); every evaluation tags a cone of the lattice."""
        path, current = [start], start
        while True:
            nxt = None
            for j in self.preference:
                if self.nodes[current, j] < self.heights[j]:
                    candidate = current + int(self.strides[j])
                    if self.state[candidate] == 0 and self.bound[candidate] < ceiling:
                        nxt = candidate
                        break
            if nxt is None:
                break
            path.append(nxt)
            current = nxt
        lo, hi = 0, len(path) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            if self.acceptable(path[mid]):
                hi = mid - 1
            else:
                lo = mid + 1


# --------------------------------------------------------------------------- public entry point


def _classes(frame: pd.DataFrame, names: Sequence[str]):
    if not names:
        inv = np.zeros(len(frame), dtype=np.int64)
        return inv, (1 if len(frame) else 0)
    columns, cards = [], []
    for name in names:
        codes, uniques = pd.factorize(frame[name].to_numpy(), sort=True)
        columns.append(codes.astype(_dense_dtype(len(uniques))))
        cards.append(max(len(uniques), 1))
    inv, _, groups = _group(columns, cards, len(frame))
    return inv, groups


def _l_diversity(frame: pd.DataFrame, inv: np.ndarray, groups: int, sensitive) -> dict[str, int]:
    out = {}
    for name in sensitive:
        codes, uniques = pd.factorize(frame[name].to_numpy(), sort=True)
        pairs = np.unique(inv * max(len(uniques), 1) + codes.astype(np.int64))
        per_class = np.bincount(pairs // max(len(uniques), 1), minlength=groups)
        out[name] = int(per_class.min()) if groups else 0
    return out


def anonymise(
    frame: pd.DataFrame,
    quasi_identifiers: dict[str, Hierarchy],
    k: int = 11,
    sensitive: Sequence[str] = (),
    max_suppressed_share: float = 0.05,
    weights: dict[str, float] | None = None,
) -> Result:
    """Generalise and locally suppress the quasi-identifiers of ``frame`` to k-anonymity.

    See the module docstring for the procedure. Returns a new frame with the same index,
    columns and dtypes; only QI columns change.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ValueError("k must be an integer >= 2")
    k = int(k)
    if not 0.0 <= max_suppressed_share <= 1.0:
        raise ValueError("max_suppressed_share must be between 0 and 1")
    names = list(quasi_identifiers)
    sensitive = list(sensitive)
    for name in names:
        if name not in frame.columns:
            raise ValueError(f"quasi-identifier {name!r} is not a column")
        dtype = frame[name].dtype
        if not (isinstance(dtype, np.dtype) and np.issubdtype(dtype, np.integer)):
            raise ValueError(f"quasi-identifier {name!r} is not integer-coded")
    for name in sensitive:
        if name not in frame.columns:
            raise ValueError(f"sensitive attribute {name!r} is not a column")
        if name in quasi_identifiers:
            raise ValueError(f"{name!r} cannot be both quasi-identifier and sensitive")
    weights = dict(weights or {})
    for name, w in weights.items():
        if name not in quasi_identifiers:
            raise ValueError(f"weight given for {name!r}, which is not a quasi-identifier")
        if not w >= 0:
            raise ValueError(f"weight of {name!r} must be >= 0")

    rows = len(frame)
    if rows == 0:
        return Result(
            frame=frame.copy(),
            levels=dict.fromkeys(names, 0),
            suppressed_values=dict.fromkeys(names, 0),
            suppressed_total=0,
            k_achieved=0,
            l_diversity=dict.fromkeys(sensitive, 0),
            information_loss=0.0,
            classes=0,
            empty=True,
            k=k,
        )

    qis = [
        _prepare_qi(name, frame[name], quasi_identifiers[name], weights.get(name, 1.0))
        for name in names
    ]
    total_w = sum(qi.weight for qi in qis)
    limit = int(np.floor(max_suppressed_share * rows + 1e-9))
    out = frame.copy()
    node: tuple[int, ...] = ()
    within = True
    candidates = 0
    evaluated = 0
    if qis:
        columns = [qi.row_index for qi in qis]
        inv0, first0, groups0 = _group(columns, [qi.card(0) for qi in qis], rows)
        table0 = _Table(
            tuple([0] * len(qis)),
            [column[first0] for column in columns],
            np.bincount(inv0, minlength=groups0).astype(np.int64),
        )
        search = _Search(qis, table0, k, limit, total_w)
        costs_base = np.array([qi.weight for qi in qis])
        best = None
        tried = set()

        def consider(index: int) -> None:
            nonlocal best, candidates
            tried.add(index)
            candidate = tuple(int(x) for x in search.nodes[index])
            sup, _ = _run_suppression(search, candidate, k, costs_base)
            candidates += 1
            _, records, loss = _suppression_stats(sup, qis, candidate, total_w)
            if records <= limit and (best is None or loss < best[0] - _EPS):
                best = (loss, candidate)

        start = search.descend()
        if start is not None:
            consider(start)
        order = np.lexsort((np.arange(len(search.nodes)), search.nodes.sum(axis=1), search.bound))
        for index in order:
            ceiling = best[0] - _EPS if best is not None else np.inf
            if search.bound[index] >= ceiling or candidates >= _MAX_CANDIDATES:
                break
            if search.state[index] == 0:
                search.settle(int(index), ceiling)
            if search.state[index] > 0 and index not in tried:
                consider(int(index))
        if best is None:
            within = False
            node = tuple(qi.height for qi in qis)
        else:
            node = best[1]
        evaluated = search.evaluated
        search.cache.clear()
        final = search.table(node, keep_inverse=True)
        sup, order = _run_suppression(search, node, k, costs_base, table=final)
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        row_class = position[final.inverse[inv0]]
        _apply(out, qis, sup, row_class)

    suppressed_values = {}
    touched = np.zeros(rows, dtype=bool)
    loss_sum = 0.0
    for j, qi in enumerate(qis):
        result_col = out[qi.name].to_numpy()
        was_suppressed = (qi.vocab[node[j]] == SUPPRESSED)[qi.index[node[j]]][qi.row_index]
        newly = (result_col == SUPPRESSED) & ~was_suppressed
        suppressed_values[qi.name] = int(newly.sum())
        touched |= newly
        per_cell = (node[j] / qi.height) if qi.height else 0.0
        loss_sum += qi.weight * (
            per_cell * float((result_col >= 0).sum()) + float((result_col == SUPPRESSED).sum())
        )
    information_loss = loss_sum / (rows * total_w) if total_w > 0 else 0.0
    inv, groups = _classes(out, names)
    sizes = np.bincount(inv, minlength=groups)
    k_achieved = int(sizes.min())
    if rows >= k and qis and k_achieved < k:
        raise RuntimeError("internal error: the anonymised frame is not k-anonymous")
    suppressed_records = int(touched.sum())
    return Result(
        frame=out,
        levels={qi.name: node[j] for j, qi in enumerate(qis)},
        suppressed_values=suppressed_values,
        suppressed_total=int(sum(suppressed_values.values())),
        k_achieved=k_achieved,
        l_diversity=_l_diversity(out, inv, groups, sensitive),
        information_loss=float(information_loss),
        classes=int(groups),
        empty=False,
        k=k,
        suppressed_records=suppressed_records,
        suppressed_share=suppressed_records / rows,
        within_limit=within and suppressed_records <= limit,
        nodes_evaluated=evaluated,
        candidates_evaluated=candidates,
    )


def _run_suppression(search: _Search, node, k, costs_base, table: _Table | None = None):
    """Local suppression at ``node``; also returns the order in which the node's classes were
    taken (sorted by their codes, so that the outcome does not depend on which cached table
    the class table was rolled up from)."""
    qis = search.qis
    table = table or search.table(node)
    order = np.lexsort(table.columns[::-1]) if qis else np.arange(len(table.counts))
    base = np.empty((len(table.counts), len(qis)), dtype=np.int64)
    for j, qi in enumerate(qis):
        base[:, j] = qi.vocab[node[j]][table.columns[j][order]]
    costs = np.array(
        [
            costs_base[j] * (1.0 - (node[j] / qi.height if qi.height else 0.0))
            for j, qi in enumerate(qis)
        ]
    )
    distinct = np.array([qi.card(node[j]) for j, qi in enumerate(qis)], dtype=np.int64)
    outliers = int(table.counts[table.counts < k].sum())
    budget = max(0, search.limit - outliers)  # records that topping up may take (see _top_up)
    return _local_suppression(base, table.counts[order], k, costs, distinct, budget), order


def suppress_only(frame: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 11) -> Result:
    """Local suppression without generalisation (sdcMicro-style baseline): every QI stays at
    level 0 and the suppression limit is ignored. Used for comparison in the benchmark."""
    hierarchies = {name: Hierarchy.identity() for name in quasi_identifiers}
    return anonymise(frame, hierarchies, k=k, max_suppressed_share=1.0)


def _apply(out: pd.DataFrame, qis: list[_QI], sup: _Suppression, row_class: np.ndarray) -> None:
    """Write the final codes of every row: rows of a class that gave records to split rows
    (donors) hand over their last rows by position."""
    final_row = row_class.copy()
    original = len(sup.base)
    split_rows = np.arange(original, len(sup.counts))
    if split_rows.size:
        parents = np.unique(sup.root[split_rows])
        positions = np.flatnonzero(np.isin(row_class, parents))
        order = np.lexsort((-positions, row_class[positions]))
        positions = positions[order]
        owners = row_class[positions]
        starts = np.searchsorted(owners, parents)
        used = dict.fromkeys(parents.tolist(), 0)
        for split in split_rows:
            parent = int(sup.root[split])
            amount = int(sup.counts[split])
            begin = int(starts[np.searchsorted(parents, parent)]) + used[parent]
            final_row[positions[begin : begin + amount]] = split
            used[parent] += amount
    for j, qi in enumerate(qis):
        dtype = out[qi.name].dtype
        out[qi.name] = sup.values[final_row, j].astype(dtype)
