"""Import of a 50,000-row XLSX caseload, deduplicated against 100,000 people already there.

    .venv/bin/python bench/import_speed.py [--rows 50000] [--people 100000] [--reset-database]

Budgets: the import (`manage.py import_cases`, a process of its own) ≤ 5 minutes wall time
and ≤ 2 GB peak memory (its `ru_maxrss`). People come from `dedupe.engine.synthetic`
(seeded; about a fifth of them registered twice, in another script or with a typo),
shuffled, then split: the first `--people` are loaded into a PostgreSQL database of their
own (`BENCH_IMPORT_DATABASE_URL`, default `.../casework_import_bench_seed`, kept between
runs) and deduplicated there with `dedupe_run`; the rest become the rows of the file. Each
run imports into a fresh copy of that database (`CREATE DATABASE ... TEMPLATE`), dropped
afterwards.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PYTHON,
    RESULTS_DIR,
    ROOT,
    create_database,
    database_exists,
    django_env,
    drop_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/casework_import_bench_seed"
BUDGET_SECONDS = 300
BUDGET_BYTES = 2 * 1024**3
SEED = 23
MISSION = "DE-BER"


def people_and_rows(people: int, rows: int) -> tuple[list[dict], list[dict]]:
    from dedupe.engine import synthetic

    records, _labels = synthetic.generate(people + rows, seed=SEED)
    random.Random(SEED).shuffle(records)
    return records[:people], records[people : people + rows]


# Workers (run with Django set up, in a subprocess) -------------------------------------


def seed_worker(people: int, rows: int) -> None:
    import django

    django.setup()
    from tqdm import tqdm

    from casework import blind_index
    from casework.demo import create_staff
    from casework.models import Mission, Person
    from dedupe.services import run_batch

    create_staff()
    missions = list(Mission.objects.order_by("code"))
    existing, _rows = people_and_rows(people, rows)
    batch = []
    sex = {"F": "female", "M": "male", "": "unknown"}
    for index, record in enumerate(tqdm(existing, desc="people", unit="person")):
        born = date.fromisoformat(record["date_of_birth"]) if record["date_of_birth"] else None
        batch.append(
            Person(
                given_names=record["given_name"],
                family_names=record["family_name"],
                date_of_birth=born,
                birth_year=record["birth_year"],
                sex=sex[record["sex"]],
                citizenship=record["citizenship"],
                registered_by=missions[index % len(missions)],
                name_index=blind_index.name_index(record["given_name"], record["family_name"]),
                family_name_index=blind_index.family_name_index(record["family_name"]),
                date_of_birth_index=blind_index.date_of_birth_index(born),
            )
        )
        if len(batch) == 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)
    print("dedupe_run on the existing people:", run_batch(refit=True))


def file_worker(people: int, rows: int, path: str) -> None:
    """Write the XLSX file: one case per row, with screening answers and services."""
    from openpyxl import Workbook

    _existing, imported = people_and_rows(people, rows)
    rng = random.Random(SEED)
    headers = [
        "Legacy Reference",
        "Given names",
        "FAMILY NAMES",
        "sex",
        "date of birth",
        "birth_year",
        "citizenship",
        "country_of_exploitation",
        "identified_on",
        "registered_on",
        "status",
        "screening_determination",
        "screening_exploitation_types",
        "screening_means_of_control",
        "services",
    ]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("cases")
    sheet.append(headers)
    start = date(2012, 1, 1)
    for index, record in enumerate(imported):
        identified = start + timedelta(days=rng.randint(0, 4000))
        registered = identified + timedelta(days=rng.randint(0, 20))
        screened = rng.random() < 0.6
        born = record["date_of_birth"]
        sheet.append(
            [
                f"OLD-{index:06d}",
                record["given_name"],
                record["family_name"],
                {"F": "F", "M": "M", "": "unknown"}[record["sex"]],
                # Excel dates and day-first text, as real files mix them.
                date.fromisoformat(born)
                if born and index % 2
                else (date.fromisoformat(born).strftime("%d/%m/%Y") if born else ""),
                record["birth_year"],
                record["citizenship"] or "unknown",
                rng.choice(["DE", "Germany", "PL", "IT"]),
                identified,
                registered.strftime("%d.%m.%Y"),
                "eligible" if screened else "registered",
                "victim" if screened else "",
                "forced_labour; begging" if screened else "",
                "threats" if screened else "",
                f"shelter|delivered|{registered.isoformat()}||" if screened else "",
            ]
        )
    workbook.save(path)


# Orchestration ---------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--reset-database", action="store_true", help="seed again")
    parser.add_argument("--data-dir", default="/tmp/import-bench")  # noqa: S108
    parser.add_argument("--worker", choices=["seed", "file"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "seed":
        seed_worker(args.people, args.rows)
        return 0
    if args.worker == "file":
        file_worker(args.people, args.rows, args.path)
        return 0

    seed_url = os.environ.get("BENCH_IMPORT_DATABASE_URL") or DEFAULT_URL
    seed_name = seed_url.rsplit("/", 1)[1]
    marker = Path(args.data_dir) / f"{seed_name}-{args.people}.seeded"
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    if args.reset_database or not marker.exists() or not database_exists(seed_url):
        drop_database(seed_url)
        create_database(seed_url)
        env = django_env(seed_url)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        print(f"Seeding {args.people:,} people and deduplicating them (once)...")
        subprocess.run(
            [PYTHON, __file__, "--worker", "seed", "--people", str(args.people),
             "--rows", str(args.rows)],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        marker.write_text(str(args.people))
    xlsx = Path(args.data_dir) / f"cases-{args.rows}-{args.people}.xlsx"
    if not xlsx.exists():
        subprocess.run(
            [PYTHON, __file__, "--worker", "file", "--people", str(args.people),
             "--rows", str(args.rows), "--path", str(xlsx)],
            cwd=ROOT, env=django_env(seed_url), check=True,
        )  # fmt: skip

    run_url = seed_url.rsplit("/", 1)[0] + "/casework_import_bench_run"
    import psycopg
    from psycopg import sql

    admin = seed_url.rsplit("/", 1)[0] + "/postgres"
    drop_database(run_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier("casework_import_bench_run"), sql.Identifier(seed_name)
            )
        )
    env = django_env(run_url)
    load_before = os.getloadavg()
    print(f"Importing {xlsx} ({xlsx.stat().st_size / 1e6:.1f} MB) into {MISSION}...")
    report_path = Path(args.data_dir) / "import-report.txt"
    with open(report_path, "w") as report:
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", "import_cases", "--mission", MISSION, "--file", str(xlsx),
             "--day-first", "--progress"],
            cwd=ROOT, env=env, stdout=report,
        )  # fmt: skip
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
    peak = usage.ru_maxrss * 1024
    code = os.waitstatus_to_exitcode(status)
    summary = report_path.read_text().strip().splitlines()[-1] if code == 0 else "(failed)"
    counts = json.loads(
        subprocess.run(
            [PYTHON, "-c", COUNT_SCRIPT], cwd=ROOT, env=env, check=True, capture_output=True,
            text=True,
        ).stdout
    )  # fmt: skip
    drop_database(run_url)
    results = {
        "rows": args.rows,
        "existing_people": args.people,
        "seconds": round(seconds, 1),
        "peak_memory_bytes": peak,
        "exit_status": code,
        "summary": summary,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "rows_per_second": round(args.rows / seconds, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        **counts,
    }
    ok = code == 0 and seconds <= BUDGET_SECONDS and peak <= BUDGET_BYTES
    print()
    print(f"{'figure':<44}{'measured':>16}{'budget':>14}")
    print(f"{'import of ' + format(args.rows, ',') + ' rows: wall time':<44}"
          f"{seconds:>14.1f} s{BUDGET_SECONDS:>12} s")  # fmt: skip
    print(f"{'import: peak memory':<44}{peak / 1024**3:>14.2f} GB{2:>11} GB")
    print(f"{'import: CPU time (user + system)':<44}{results['cpu_seconds']:>14.1f} s")
    print(f"{'rows per second':<44}{results['rows_per_second']:>16}")
    print(f"{'cases created':<44}{counts['imported_cases']:>16,}")
    queued = counts["pairs_with_imported_people"]
    print(f"{'likely duplicates queued by the import':<44}{queued:>16,}")
    print(f"{'pairs awaiting review (the import and the seed)':<44}{counts['pending_pairs']:>16,}")
    loads = f"{load_before[0]:.1f} / {results['load_after'][0]:.1f}"
    print(f"{'load average (1 min) before / after':<44}{loads:>16}")
    print(summary)
    print("within budget" if ok else "OVER BUDGET")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"import-speed-{stamp}.json", "import-speed-latest.json"):
        (RESULTS_DIR / name).write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


COUNT_SCRIPT = """
import json, django
django.setup()
from casework.models import Case
from dedupe.models import MatchCandidate
print(json.dumps({
    "imported_cases": Case.objects.exclude(legacy_reference="").count(),
    "pending_pairs": MatchCandidate.objects.filter(decision="pending").count(),
    "pairs_with_imported_people": MatchCandidate.objects.filter(
        person_b__cases__legacy_reference__startswith="OLD-"
    ).count(),
}))
"""

if __name__ == "__main__":
    sys.exit(main())
