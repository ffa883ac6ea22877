"""Shared by the benchmark's parts: paths, the target database and its preparation.

Nothing here imports Django: the orchestrator (run.py) only starts Django in
subprocesses that get DATABASE_URL in their environment.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/casework_bench"
SEED_CASES = 100_000
SEED_VALUE = 1


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def _split(url: str) -> tuple[str, str]:
    """Return (URL of the maintenance database `postgres`, name of the target database)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit(f"BENCH_DATABASE_URL must be a PostgreSQL URL, not {parts.scheme}://")
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("BENCH_DATABASE_URL names no database.")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    return admin, name


def django_env(url: str) -> dict[str, str]:
    """Environment of a Django subprocess: the bench database, development settings."""
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.pop("DJANGO_DEBUG", None)  # debug mode would keep every query in memory
    return env


def manage(url: str, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=django_env(url), check=True)


def database_exists(url: str) -> bool:
    admin, name = _split(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def create_database(url: str) -> None:
    admin, name = _split(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    admin, name = _split(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def seed_state(url: str) -> tuple[int, bool]:
    """Return (number of cases, whether a complete seeding of SEED_CASES was recorded).

    `seed_demo` writes its `demo.seeded` audit row only after the last batch, so a
    seeding that was interrupted has cases but no such row.
    """
    with psycopg.connect(url) as conn:
        cases = conn.execute("SELECT count(*) FROM casework_case").fetchone()[0]
        done = conn.execute(
            "SELECT 1 FROM casework_auditevent WHERE action = 'demo.seeded'"
            " AND (detail->>'cases')::int = %s",
            [SEED_CASES],
        ).fetchone()
    return cases, bool(done)


def applied_migrations(url: str) -> int:
    """How many migrations the database records as applied (0 before the first migrate)."""
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('django_migrations')").fetchone()[0]
        if not exists:
            return 0
        return conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]


def _seed_record_path(url: str) -> Path:
    return RESULTS_DIR / f"seed-{_split(url)[1]}.json"


def prepare_database(url: str, *, reseed: bool = False) -> dict:
    """Create, migrate and seed the bench database unless that was done already.

    Returns what the report says about the data: cases, whether seeding ran now, and
    how long the seeding took (now or when it was done).
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    name = _split(url)[1]
    if reseed and database_exists(url):
        print(f"[setup] --reseed: dropping database {name}", flush=True)
        drop_database(url)
    if not database_exists(url):
        print(f"[setup] creating database {name}", flush=True)
        create_database(url)
    print("[setup] manage.py migrate", flush=True)
    before = applied_migrations(url)
    try:
        manage(url, "migrate", "--verbosity", "0")
    except subprocess.CalledProcessError:
        raise SystemExit(
            f"manage.py migrate failed on {name}. If migrations were rewritten since the"
            " database was seeded, start again with --reseed."
        ) from None
    migrated = applied_migrations(url) - before
    cases, complete = seed_state(url)
    if migrated and cases and complete:
        # A new column has no planner statistics until autovacuum analyses the table, which
        # a migration does not trigger: PostgreSQL then guesses, e.g. that half the cases
        # have `merged_into` set, and scans the whole table. Give the kept data fresh
        # statistics, as a seeding does.
        print(f"[setup] {migrated} new migrations applied to the kept data: ANALYZE", flush=True)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    if cases and not complete:
        print(
            f"[setup] {cases} cases but no record of a complete seeding (interrupted?):"
            " recreating the database",
            flush=True,
        )
        drop_database(url)
        create_database(url)
        manage(url, "migrate", "--verbosity", "0")
        cases = 0
    record_path = _seed_record_path(url)
    if cases == 0:
        print(
            f"[setup] seeding {SEED_CASES} cases (seed_demo --cases {SEED_CASES}"
            f" --seed {SEED_VALUE}); this takes a few minutes",
            flush=True,
        )
        started = time.perf_counter()
        manage(url, "seed_demo", "--cases", str(SEED_CASES), "--seed", str(SEED_VALUE))
        seconds = time.perf_counter() - started
        # Fresh planner statistics, as autovacuum would gather them soon after a bulk load.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        record = {
            "database": name,
            "cases": SEED_CASES,
            "seed": SEED_VALUE,
            "seconds": round(seconds, 1),
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        record_path.write_text(json.dumps(record, indent=2))
        print(f"[setup] seeded in {seconds:.0f} s", flush=True)
        return {**record, "seeded_now": True}
    print(f"[setup] database already seeded ({cases} cases): kept", flush=True)
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    return {
        "database": name,
        "cases": cases,
        "seed": SEED_VALUE,
        "seconds": record.get("seconds"),
        "at": record.get("at"),
        "seeded_now": False,
        "migrations_applied_now": migrated,
    }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict:
    """Median, p95, p99, min, max in milliseconds of durations in seconds."""
    if not seconds:
        return {"count": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "median": round(statistics.median(ms), 1),
        "p95": round(percentile(ms, 95), 1),
        "p99": round(percentile(ms, 99), 1),
        "min": round(min(ms), 1),
        "max": round(max(ms), 1),
    }
