"""Speed and memory of the k-anonymity engine (research.anonymity) on a synthetic frame.

    .venv/bin/python bench/research_kanon.py [--rows 1000000] [--k 11] [--seed 7] [--no-naive]
                                             [--wide]

Generates a skewed synthetic research frame (sex, age band, citizenship ~60 countries Zipf,
country of exploitation, year 2000-2025, quarter, exploitation type, three 0/1 flags, some -99),
runs ``anonymise`` with 10 quasi-identifiers (six with hierarchies of 3-4 levels) and prints
wall time, peak memory (ru_maxrss), the levels chosen and the values suppressed. For
comparison it then runs local suppression alone at the bottom of the lattice (no
generalisation, no suppression limit; sdcMicro-style) and prints how many values that needs.
--wide gives every QI a hierarchy (citizenship and country of exploitation 4 levels, quarter 3,
flags 2): a lattice of 27,648 nodes instead of 1,296.
Exits with status 1 if anonymise takes more than 60 s (wall time).
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research.anonymity import Hierarchy, anonymise, suppress_only  # noqa: E402

BUDGET_SECONDS = 60.0
COUNTRIES = 60
REGION_OF = [c % 8 for c in range(COUNTRIES)]  # 8 synthetic world regions


def zipf_codes(rng, n, size, a=1.3):
    ranks = np.arange(1, size + 1, dtype=np.float64)
    p = ranks**-a
    return rng.choice(size, n, p=p / p.sum())


def make_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(2, rows, p=[0.7, 0.3]).astype("int16"),
            "age_band": rng.choice(
                9, rows, p=[0.02, 0.05, 0.1, 0.2, 0.25, 0.18, 0.1, 0.07, 0.03]
            ).astype("int16"),
            "citizenship": zipf_codes(rng, rows, COUNTRIES).astype("int16"),
            "exploitation_country": zipf_codes(rng, rows, 40, a=1.6).astype("int16"),
            "year": rng.choice(
                np.arange(2000, 2026), rows, p=np.linspace(1, 4, 26) / np.linspace(1, 4, 26).sum()
            ).astype("int16"),
            "quarter": rng.integers(0, 4, rows).astype("int16"),
            "exploitation_type": rng.choice(6, rows, p=[0.4, 0.3, 0.1, 0.1, 0.06, 0.04]).astype(
                "int16"
            ),
            "flag_minor_at_recruitment": (rng.random(rows) < 0.15).astype("int16"),
            "flag_document_retained": (rng.random(rows) < 0.4).astype("int16"),
            "flag_debt_bondage": (rng.random(rows) < 0.25).astype("int16"),
            "service_referral": rng.integers(0, 7, rows).astype("int16"),  # sensitive
        }
    )
    for name, share in [("age_band", 0.06), ("citizenship", 0.03), ("year", 0.01)]:
        frame.loc[rng.random(rows) < share, name] = -99
    frame.loc[rng.random(rows) < 0.02, "exploitation_type"] = -98
    return frame


def hierarchies() -> dict[str, Hierarchy]:
    def flat(codes):
        return dict.fromkeys(codes, 0)

    countries = range(COUNTRIES)
    return {
        "sex": Hierarchy(({}, flat(range(2)))),
        "age_band": Hierarchy.chain({a: int(a >= 2) for a in range(9)}, flat(range(2))),
        "citizenship": Hierarchy.chain(
            dict(zip(countries, REGION_OF, strict=True)), flat(range(8))
        ),
        "exploitation_country": Hierarchy.chain({c: c % 8 for c in range(40)}, flat(range(8))),
        "year": Hierarchy.chain(
            {y: (y - 2000) // 5 for y in range(2000, 2026)},
            {p: int(p >= 3) for p in range(6)},
            flat(range(2)),
        ),
        "quarter": Hierarchy(({}, flat(range(4)))),
        "exploitation_type": Hierarchy.chain({t: int(t >= 2) for t in range(6)}, flat(range(2))),
        "flag_minor_at_recruitment": Hierarchy.identity(),
        "flag_document_retained": Hierarchy.identity(),
        "flag_debt_bondage": Hierarchy.identity(),
    }


def wide_hierarchies() -> dict[str, Hierarchy]:
    def flat(codes):
        return dict.fromkeys(codes, 0)

    qis = hierarchies()
    qis["citizenship"] = Hierarchy.chain(
        {c: c % 20 for c in range(COUNTRIES)}, {c: c % 8 for c in range(20)}, flat(range(8))
    )
    qis["exploitation_country"] = Hierarchy.chain(
        {c: c % 16 for c in range(40)}, {c: c % 8 for c in range(16)}, flat(range(8))
    )
    qis["quarter"] = Hierarchy.chain({q: q // 2 for q in range(4)}, flat(range(2)))
    for name in ("flag_minor_at_recruitment", "flag_document_retained", "flag_debt_bondage"):
        qis[name] = Hierarchy(({}, flat(range(2))))
    return qis


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=11)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-naive", action="store_true", help="skip the suppression baseline")
    parser.add_argument("--wide", action="store_true", help="hierarchies on every QI")
    args = parser.parse_args()

    started = time.perf_counter()
    frame = make_frame(args.rows, args.seed)
    print(f"generated {len(frame):,} rows in {time.perf_counter() - started:.1f} s")
    qis = wide_hierarchies() if args.wide else hierarchies()
    lattice = int(np.prod([h.height + 1 for h in qis.values()]))
    print(f"{len(qis)} quasi-identifiers, lattice of {lattice} nodes, k={args.k}")

    started, cpu_started = time.perf_counter(), time.process_time()
    result = anonymise(frame, qis, k=args.k, sensitive=["service_referral"])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"anonymise: {elapsed:.2f} s wall, {cpu:.2f} s CPU (budget {BUDGET_SECONDS:.0f} s), "
        f"peak RSS {peak_mb:.0f} MB"
    )
    print(f"  nodes evaluated {result.nodes_evaluated}, candidates {result.candidates_evaluated}")
    print(f"  levels {result.levels}")
    print(f"  suppressed values {result.suppressed_total:,} {result.suppressed_values}")
    print(
        f"  suppressed records {result.suppressed_records:,} ({result.suppressed_share:.2%}), "
        f"within limit {result.within_limit}"
    )
    print(
        f"  k achieved {result.k_achieved}, classes {result.classes:,}, "
        f"l-diversity {result.l_diversity}, information loss {result.information_loss:.4f}"
    )

    if not args.no_naive:
        started = time.perf_counter()
        naive = suppress_only(frame, list(qis), k=args.k)
        print(
            f"local suppression only (no generalisation, no limit): "
            f"{time.perf_counter() - started:.2f} s, {naive.suppressed_total:,} values in "
            f"{naive.suppressed_records:,} records ({naive.suppressed_share:.2%}), "
            f"k achieved {naive.k_achieved}, information loss {naive.information_loss:.4f}"
        )
        print(f"  {naive.suppressed_values}")
    return 1 if elapsed > BUDGET_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
