"""Speed, memory and suppression count of the disclosure engine (research.sdc) on a big table.

    .venv/bin/python bench/sdc_speed.py [--persons 400000] [--years 15] [--countries 600]
        [--subregions 60] [--regions 5] [--types 8] [--seed 3] [--no-greedy-audit]

Builds a three-dimensional table year x citizenship x exploitation type with margins, the
citizenship dimension under a hierarchy country -> sub-region -> region -> Total, from
skewed synthetic microdata (Zipf citizenships, a rising trend over the years, a few
dominant exploitation types). The default shape has 16 x 666 x 9 = 95,904 cells (the
issue's "about 100,000"); ``--countries 150 --subregions 20`` gives the 25,344-cell shape of
150 countries. Then:

* protects it (primary + secondary suppression; budget 60 s),
* audits it: the attacker's LPs prove every primary cell's protection, with exact intervals
  where cheap and inner brackets elsewhere (budget 300 s); ``--exact-audit`` asks for the
  exact interval of every suppressed cell instead (over 20 minutes on the default shape),
* reports the peak memory of the process and of its worker processes (budget 4 GB),
* runs a simple greedy method on the same table ("suppress the next smallest cell in the
  same line until each suppressed cell has a partner in every line through it") and
  compares the number of secondary suppressions, and (unless ``--no-greedy-audit``)
  audits the greedy pattern too, to show how many primary cells it leaves exposed.

Prints each figure beside its budget and exits with status 1 if one is not met (or if the
engine's audit does not pass).
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research.sdc import (  # noqa: E402
    PRIMARY,
    PUBLISHED,
    SECONDARY,
    audit,
    build_table,
    protect,
)

PROTECT_BUDGET = 60.0
AUDIT_BUDGET = 300.0
MEMORY_BUDGET_GB = 4.0


def peak_memory_gb() -> float:
    """The larger peak resident memory of this process and of its (waited-for) workers."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024**2


def make_microdata(args) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(args.seed)
    n = args.persons
    ranks = np.arange(1, args.countries + 1, dtype=np.float64)
    p = ranks**-1.1
    citizenship = rng.choice(args.countries, n, p=p / p.sum())
    # Countries are shuffled over sub-regions, sub-regions over regions (fixed by the seed).
    sub_of = rng.permutation(np.arange(args.countries) % args.subregions)
    region_of = np.arange(args.subregions) % args.regions
    hierarchy: dict[str, str] = {f"C{c:03d}": f"S{sub_of[c]:02d}" for c in range(args.countries)}
    hierarchy.update({f"S{s:02d}": f"R{region_of[s]}" for s in range(args.subregions)})
    weights = np.linspace(1.0, 3.0, args.years)
    year = 2010 + rng.choice(args.years, n, p=weights / weights.sum())
    tp = np.array([0.45, 0.25, 0.1, 0.08, 0.05, 0.04, 0.02, 0.01][: args.types])
    if tp.size < args.types:
        tp = np.concatenate([tp, np.full(args.types - tp.size, 0.01)])
    etype = rng.choice(args.types, n, p=tp / tp.sum())
    frame = pd.DataFrame(
        {
            "year": year.astype(np.int16),
            "citizenship": np.array([f"C{c:03d}" for c in range(args.countries)])[citizenship],
            "exploitation": np.array([f"T{t}" for t in range(args.types)])[etype],
        }
    )
    return frame, hierarchy


def greedy(table, primary: np.ndarray) -> np.ndarray:
    """Naive secondary suppression: give every suppressed cell a partner in each line.

    A line is the cell's siblings along one dimension (the children of its parent label,
    the other labels fixed). If no other cell of the line is suppressed, suppress the
    smallest published one (non-margins first, then by count, then by index); repeat until
    every suppressed cell has a partner in every line through it.
    """
    shape = table.shape
    counts = table.counts
    status = np.where(primary, PRIMARY, PUBLISHED).astype(np.int8)
    label_index = table.label_index
    strides = np.array([int(np.prod(shape[k + 1 :])) for k in range(len(shape))])
    level = table.margin_level
    queue = list(np.flatnonzero(primary))
    while queue:
        nxt = []
        for cell in queue:
            labels = label_index[cell]
            for d, dim in enumerate(table.dims):
                par = dim.parent[labels[d]]
                if par < 0:
                    continue
                siblings = np.asarray(dim.children[par])
                base = cell - labels[d] * strides[d]
                line = base + siblings * strides[d]
                others = line[line != cell]
                if not others.size or np.any(status[others] != PUBLISHED):
                    continue
                order = np.lexsort((others, counts[others], level[others]))
                pick = others[order[0]]
                status[pick] = SECONDARY
                nxt.append(int(pick))
        queue = nxt
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=400_000)
    parser.add_argument("--years", type=int, default=15)
    parser.add_argument("--countries", type=int, default=600)
    parser.add_argument("--subregions", type=int, default=60)
    parser.add_argument("--regions", type=int, default=5)
    parser.add_argument("--types", type=int, default=8)
    parser.add_argument("--threshold", type=int, default=10)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-greedy-audit", action="store_true")
    parser.add_argument("--exact-audit", action="store_true")
    parser.add_argument(
        "--no-audit", action="store_true", help="time the protection only (RESULT: partial)"
    )
    args = parser.parse_args()

    frame, hierarchy = make_microdata(args)
    t0 = time.perf_counter()
    table = build_table(
        frame, ["year", "citizenship"], "exploitation", hierarchies={"citizenship": hierarchy}
    )
    build_s = time.perf_counter() - t0
    print(
        f"table: {' x '.join(map(str, table.shape))} = {table.n_cells:,} cells, "
        f"{table.relations.shape[0]:,} relations, {args.persons:,} persons, built in "
        f"{build_s:.1f} s",
        flush=True,
    )

    t0 = time.perf_counter()
    result = protect(table, args.threshold, run_audit=False)
    protect_s = time.perf_counter() - t0
    print(
        f"protected in {protect_s:.1f} s ({result.stats.get('workers', 1)} worker(s))"
        + ("" if args.no_audit else "; auditing..."),
        flush=True,
    )
    if args.no_audit:
        peak_gb = peak_memory_gb()
        print(f"primary {result.n_primary:,}, secondary {result.n_secondary:,}")
        print(f"protect      {protect_s:8.2f} s   budget {PROTECT_BUDGET:6.1f} s")
        print(f"peak memory  {peak_gb:8.2f} GB  budget {MEMORY_BUDGET_GB:6.1f} GB")
        g_status = greedy(table, result.status == PRIMARY)
        print(
            f"secondary suppressions: engine {result.n_secondary:,}, greedy "
            f"{int((g_status == SECONDARY).sum()):,}"
        )
        print("RESULT: partial (no audit)")
        return 0 if protect_s <= PROTECT_BUDGET and peak_gb <= MEMORY_BUDGET_GB else 1
    t0 = time.perf_counter()
    aud = result.run_audit(exact=args.exact_audit)
    audit_s = time.perf_counter() - t0
    peak_gb = peak_memory_gb()

    primary = result.status == PRIMARY
    g_status = greedy(table, primary)
    g_secondary = int((g_status == SECONDARY).sum())

    print(f"method: {result.stats.get('method')}, subtables {result.stats.get('subtables')}")
    print(
        f"primary {result.n_primary:,}, secondary {result.n_secondary:,} "
        f"(of which margins {int((table.margin_level[result.status == SECONDARY] > 0).sum()):,})"
    )
    print(
        f"audit: {'PASS' if aud.passed else 'FAIL'} ({len(aud.failures)} primary cells too "
        f"narrow), {aud.lp_solves:,} LP solves, {aud.components:,} components, largest "
        f"{aud.largest_component:,} cells; intervals: "
        f"{result.n_primary + result.n_secondary - aud.bracketed:,} exact, "
        f"{aud.bracketed:,} inner brackets"
    )
    ok = aud.passed
    rows = [
        ("protect", protect_s, PROTECT_BUDGET, "s"),
        ("audit", audit_s, AUDIT_BUDGET, "s"),
        ("peak memory", peak_gb, MEMORY_BUDGET_GB, "GB"),
    ]
    for name, value, budget, unit in rows:
        verdict = "ok" if value <= budget else "OVER BUDGET"
        ok &= value <= budget
        print(f"{name:12s} {value:8.2f} {unit:2s}  budget {budget:6.1f} {unit}  {verdict}")
    print(
        f"secondary suppressions: engine {result.n_secondary:,}, greedy {g_secondary:,} "
        f"({g_secondary - result.n_secondary:+,})"
    )
    if not args.no_greedy_audit:
        lo, hi = result.lower, result.upper
        g_audit = audit(table.relations, table.counts, g_status, lo, hi)
        print(
            f"greedy audit: {len(g_audit.failures):,} of {result.n_primary:,} primary cells "
            f"too narrow ({g_audit.seconds:.1f} s)"
        )
    print("RESULT:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
