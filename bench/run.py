"""Benchmark of the case pages on 100,000 seeded cases on PostgreSQL (see bench/README.md).

    .venv/bin/python bench/run.py [--duration 300] [--users 50] [--skip-load] [--stress]

1. Setup: create the database named by BENCH_DATABASE_URL if missing, migrate, seed it
   once with `seed_demo --cases 100000 --seed 1` (kept between runs).
2. In process (subprocess bench/inprocess.py): server time and SQL query counts of the
   case list, case detail, identifier search, screening wizard and summary, and mission
   dashboard, with django.test.Client.
3. Exports (one subprocess per export): time and peak memory of the operational CSV and
   XLSX export of the largest mission, with and without identifiers.
4. Load: gunicorn on 127.0.0.1 and simulated users (bench/loadgen.py), with a realistic
   think time (3-6 s) or, with --stress, 0.5-1 s for a capacity figure.

Prints each figure beside its budget, writes bench/results/bench-<time>.json (and
latest.json), and exits with status 1 if a budget is not met.
"""

import argparse
import json
import os
import re
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402
from common import (  # noqa: E402
    PYTHON,
    RESULTS_DIR,
    ROOT,
    database_url,
    django_env,
    prepare_database,
    summary_ms,
)

LIST_MEDIAN_MS = 150
DETAIL_MEDIAN_MS = 100
SEARCH_MEDIAN_MS = 50
SCREENING_STEP_MEDIAN_MS = 100
SCREENING_SUMMARY_MEDIAN_MS = 150
DASHBOARD_MEDIAN_MS = 500
EXPORT_SECONDS = 10
EXPORT_PEAK_MB = 500
EXPORT_ROWS = 20_000  # the export budgets are stated for this many rows
LOAD_P95_MS = 500
LOAD_ERRORS = 0
# Seconds a simulated user waits after each page. A caseworker reads a case page and
# fills in a form: 3-6 s per request is already quick for that (see bench/README.md).
REALISTIC_THINK = (3.0, 6.0)
STRESS_THINK = (0.5, 1.0)
EXPORT_VARIANTS = [("csv", False), ("xlsx", False), ("csv", True), ("xlsx", True)]

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ROUTES = [
    ("GET", re.compile(r"^/accounts/login/$"), "login_page"),
    ("POST", re.compile(r"^/accounts/login/$"), "login"),
    ("GET", re.compile(r"^/cases/$"), "list"),
    ("GET", re.compile(rf"^/cases/{UUID}/$"), "detail"),
    ("GET", re.compile(rf"^/cases/{UUID}/edit/$"), "edit_page"),
    ("POST", re.compile(rf"^/cases/{UUID}/edit/$"), "edit_submit"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="load test seconds (300)")
    parser.add_argument("--users", type=int, default=50, help="simulated users (50)")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn load test")
    parser.add_argument("--skip-inprocess", action="store_true", help="no in-process timings")
    parser.add_argument("--reps", type=int, default=30, help="timed requests per figure (30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (3)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (5)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync)")
    parser.add_argument(
        "--wsgi",
        default="config.wsgi:application",
        help="WSGI application gunicorn serves, to measure a variant (config.wsgi:application)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=None,
        help="seconds over which the users start and log in (30, at most a quarter of --duration)",
    )
    parser.add_argument(
        "--think-min",
        type=float,
        default=None,
        help=f"think time after each request, from ({REALISTIC_THINK[0]} s;"
        f" {STRESS_THINK[0]} s with --stress)",
    )
    parser.add_argument(
        "--think-max",
        type=float,
        default=None,
        help=f"think time, to ({REALISTIC_THINK[1]} s; {STRESS_THINK[1]} s with --stress)",
    )
    parser.add_argument(
        "--stress",
        action="store_true",
        help=f"capacity run: think time {STRESS_THINK[0]}-{STRESS_THINK[1]} s unless given;"
        " its p95 is reported without a budget",
    )
    parser.add_argument("--skip-exports", action="store_true", help="no export timings")
    parser.add_argument(
        "--export-reps", type=int, default=3, help="runs of each export, one process each (3)"
    )
    parser.add_argument(
        "--plan-seed",
        type=int,
        default=None,
        help="choice of the cases edited (default: new each run, so runs edit other cases)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="write EXPLAIN ANALYZE of list and search SQL"
    )
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database anew")
    args = parser.parse_args()
    think = STRESS_THINK if args.stress else REALISTIC_THINK
    if args.think_min is None:
        args.think_min = think[0]
    if args.think_max is None:
        args.think_max = max(think[1], args.think_min)
    if args.ramp is None:
        args.ramp = min(30.0, args.duration / 4)
    if args.plan_seed is None:
        args.plan_seed = int(time.time())
    if args.users < 1 or args.duration <= 0 or not 0 <= args.think_min <= args.think_max:
        parser.error("need --users >= 1, --duration > 0 and 0 <= --think-min <= --think-max")
    if args.export_reps < 1:
        parser.error("need --export-reps >= 1")
    return args


def realistic_think(think: list[float] | tuple[float, float]) -> bool:
    """Whether the load test's think time is at least the realistic one (by its mean):
    only such a run is held to the p95 budget; a shorter one is a capacity (stress) run."""
    return sum(think) / 2 >= sum(REALISTIC_THINK) / 2


def git_state() -> dict:
    def git(*args):
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", ".", ":(exclude)bench")
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_product_changes": changed.splitlines()}


def run_inprocess(url: str, run_dir: Path, args) -> dict:
    out = run_dir / "inprocess.json"
    command = [
        PYTHON,
        "bench/inprocess.py",
        "measure",
        "--out",
        str(out),
        "--reps",
        str(args.reps),
        "--warmup",
        str(args.warmup),
    ]
    if args.explain:
        command += ["--explain-dir", str(run_dir)]
    subprocess.run(command, cwd=ROOT, env=django_env(url), check=True)
    return json.loads(out.read_text())


def busy_machine_warning() -> list[float]:
    """Return the load averages; warn when other work competes for the CPUs."""
    averages = [round(v, 2) for v in os.getloadavg()]
    if averages[0] > 0.5 * (os.cpu_count() or 1):
        print(
            f"[warning] load average {averages[0]} on {os.cpu_count()} CPUs before this phase:"
            " other processes compete for the CPU and the timings will be worse",
            flush=True,
        )
    return averages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TICK = os.sysconf("SC_CLK_TCK")


def cpu_times() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all CPUs together."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:8]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICK, sum(fields) / TICK


def process_cpu(match) -> float:
    """CPU seconds of the processes for which match(pid, ppid, name) holds, with the
    children they have reaped (the postmaster's ended backends)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if match(int(stat.parent.name), int(fields[1]), name):
            ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / TICK


def postgres_cpu() -> float:
    return process_cpu(lambda pid, ppid, name: name == "postgres")


def tree_cpu(root: int) -> float:
    return process_cpu(lambda pid, ppid, name: root in (pid, ppid))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class PhaseMeter:
    """Load average and the machine's CPU split during a phase run in subprocesses."""

    def __init__(self):
        self.loadavg_before = [round(v, 2) for v in os.getloadavg()]
        self.wall = time.monotonic()
        self.machine = cpu_times()
        self.postgres = postgres_cpu()
        self.children = children_cpu()

    def done(self) -> dict:
        busy_after, total_after = cpu_times()
        busy = busy_after - self.machine[0]
        total = total_after - self.machine[1]
        bench = children_cpu() - self.children
        postgres = postgres_cpu() - self.postgres
        return {
            "wall_s": round(time.monotonic() - self.wall, 1),
            "loadavg_before": self.loadavg_before,
            "loadavg_after": [round(v, 2) for v in os.getloadavg()],
            "machine_busy_pct": round(100 * busy / total, 1) if total else None,
            "machine_busy_s": round(busy, 1),
            "benchmark_s": round(bench, 1),
            "postgres_s": round(postgres, 1),
            "other_processes_s": round(busy - bench - postgres, 1),
        }


def export_missions(sizes: dict) -> list[tuple[str, bool]]:
    """(mission code, held to the budget): the budget is stated for 20,000 rows, so the
    mission with the fewest cases at or above that is timed against it; the largest
    mission is exported too, without a time budget, when it is another one."""
    largest = next(iter(sizes))
    enough = [code for code, m in sizes.items() if m["cases"] >= EXPORT_ROWS]
    budgeted = min(enough, key=lambda code: sizes[code]["cases"]) if enough else largest
    return [(budgeted, True)] + ([(largest, False)] if largest != budgeted else [])


def run_exports(url: str, run_dir: Path, args) -> dict:
    """Each export in a process of its own: time with the content consumed, peak memory."""
    sizes_file = run_dir / "missions.json"
    env = django_env(url)
    subprocess.run(
        [PYTHON, "bench/inprocess.py", "missions", "--out", str(sizes_file)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    sizes = json.loads(sizes_file.read_text())["missions"]
    result = {"missions": {code: m["cases"] for code, m in sizes.items()}, "variants": {}}
    plan = [
        (code, budgeted, fmt, identifiers)
        for code, budgeted in export_missions(sizes)
        for fmt, identifiers in EXPORT_VARIANTS
    ]
    for code, budgeted, fmt, identifiers in plan:
        key = f"{code}_{fmt}" + ("_identifiers" if identifiers else "")
        # Identifiers only for a role that may export them: the mission's manager.
        username = f"{'mgr' if identifiers else 'cw'}.{code.lower()}"
        runs, error = [], None
        for rep in range(args.export_reps if budgeted else 1):
            target = run_dir / f"export-{key}-{rep}.json"
            command = [
                PYTHON,
                "bench/inprocess.py",
                "export",
                "--out",
                str(target),
                "--mission",
                code,
                "--username",
                username,
                "--format",
                fmt,
            ] + (["--identifiers"] if identifiers else [])
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
                error = lines[-1][:300]
                print(f"[export] {key:<28} FAILED: {error}", flush=True)
                break
            runs.append(json.loads(target.read_text()))
            last = runs[-1]
            print(
                f"[export] {key:<28} {username}: {last['rows']} rows, {last['bytes']} bytes in"
                f" {last['seconds']:.2f} s (CPU {last['cpu_seconds']:.2f} s),"
                f" peak RSS {last['peak_rss_mb']:.0f} MB"
                f" (baseline {last['baseline_rss_mb']:.0f} MB)",
                flush=True,
            )
        entry = {
            "user": username,
            "mission": code,
            "mission_cases": sizes[code]["cases"],
            "budgeted": budgeted,
            "format": fmt,
            "identifiers": identifiers,
        }
        if error:
            entry["error"] = error
        if runs:
            seconds = [r["seconds"] for r in runs]
            entry.update(
                {
                    "request": runs[0]["request"],
                    "rows": runs[0]["rows"],
                    "rows_with_names": runs[0]["rows_with_names"],
                    "bytes": runs[0]["bytes"],
                    "seconds_median": round(statistics.median(seconds), 3),
                    "seconds_max": max(seconds),
                    "cpu_seconds_median": round(
                        statistics.median(r["cpu_seconds"] for r in runs), 3
                    ),
                    "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
                    "baseline_rss_mb": max(r["baseline_rss_mb"] for r in runs),
                    "runs": runs,
                }
            )
        result["variants"][key] = entry
    return result


class Gunicorn:
    def __init__(self, url: str, run_dir: Path, args):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = run_dir / "gunicorn-access.log"
        self.server_log = run_dir / "gunicorn.log"
        self.command = [
            PYTHON,
            "-m",
            "gunicorn",
            args.wsgi,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "15",
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            "%(m)s %(U)s %(s)s %(D)s",
        ]
        self._log = open(self.server_log, "w")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, env=django_env(url), stdout=self._log, stderr=self._log
        )

    def wait_ready(self, timeout: float = 60) -> None:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.server_log}")
            try:
                if requests.get(self.base + "/accounts/login/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"gunicorn not ready after {timeout} s; see {self.server_log}")
        # Let every worker connect to the database and load its templates once.
        for _ in range(20):
            requests.get(self.base + "/accounts/login/", timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def server_side(access_log: Path, offset: int) -> dict:
    """Per-step request time as gunicorn logged it (%(D)s, microseconds), from `offset`."""
    seconds: dict[str, list[float]] = {}
    with open(access_log) as handle:
        handle.seek(offset)
        for line in handle:
            parts = line.split()
            if len(parts) != 4:
                continue
            method, path, _status, micros = parts
            step = next((s for m, rx, s in ROUTES if m == method and rx.match(path)), "other")
            seconds.setdefault(step, []).append(int(micros) / 1e6)
    every = [s for values in seconds.values() for s in values]
    return {
        "steps": {step: summary_ms(values) for step, values in seconds.items()},
        "overall": summary_ms(every),
    }


def saved_changes(url: str, since: datetime) -> dict:
    """What the audit log says the edit submits of the load test changed."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT detail->>'fields', count(*) FROM casework_auditevent"
            " WHERE action = 'case.updated' AND at >= %s GROUP BY 1 ORDER BY 2 DESC",
            [since],
        ).fetchall()
    return dict(rows)


def run_load(url: str, run_dir: Path, args) -> dict:
    plan_file = run_dir / "plan.json"
    pool = int(args.duration / (4 * args.think_min if args.think_min else 0.1)) + 5
    subprocess.run(
        [
            PYTHON,
            "bench/inprocess.py",
            "plan",
            "--out",
            str(plan_file),
            "--users",
            str(args.users),
            "--pool-size",
            str(pool),
            "--plan-seed",
            str(args.plan_seed),
        ],
        cwd=ROOT,
        env=django_env(url),
        check=True,
    )
    plan = json.loads(plan_file.read_text())
    server = Gunicorn(url, run_dir, args)
    print(f"[load] {shlex.join(server.command)}", flush=True)
    try:
        server.wait_ready()
        offset = server.access_log.stat().st_size
        since = datetime.now(UTC)
        print(
            f"[load] {args.users} users for {args.duration:.0f} s (ramp-up {args.ramp:.0f} s,"
            f" think time {args.think_min}-{args.think_max} s) on {server.base}",
            flush=True,
        )
        cpu_before, self_before = cpu_times(), resource.getrusage(resource.RUSAGE_SELF)
        postgres_before, gunicorn_before = postgres_cpu(), tree_cpu(server.proc.pid)
        raw = loadgen.run_load(
            base=server.base,
            plans=plan["users"],
            password=plan["password"],
            duration=args.duration,
            ramp=args.ramp,
            think=(args.think_min, args.think_max),
            seed=args.plan_seed,
        )
        cpu_after, self_after = cpu_times(), resource.getrusage(resource.RUSAGE_SELF)
        postgres_after, gunicorn_after = postgres_cpu(), tree_cpu(server.proc.pid)
        loadavg_after = [round(v, 2) for v in os.getloadavg()]
    finally:
        server.stop()
    rec = raw["recorder"]
    changes = saved_changes(url, since)
    every = [s for values in rec.latency.values() for s in values]
    errors = sum(rec.errors.values())
    busy = cpu_after[0] - cpu_before[0]
    total = cpu_after[1] - cpu_before[1]
    cpu = {
        "machine_busy_pct": round(100 * busy / total, 1) if total else None,
        "machine_busy_s": round(busy, 1),
        "gunicorn_s": round(gunicorn_after - gunicorn_before, 1),
        "load_generator_s": round(
            (self_after.ru_utime + self_after.ru_stime)
            - (self_before.ru_utime + self_before.ru_stime),
            1,
        ),
        "postgres_s": round(postgres_after - postgres_before, 1),
    }
    cpu["other_processes_s"] = round(
        busy - cpu["gunicorn_s"] - cpu["load_generator_s"] - cpu["postgres_s"], 1
    )
    cpu["gunicorn_ms_per_request"] = (
        round(1000 * cpu["gunicorn_s"] / rec.requests, 1) if rec.requests else None
    )
    return {
        "gunicorn": server.command[3:],
        "users": args.users,
        "accounts": sorted({u["username"] for u in plan["users"]}),
        "duration_s": args.duration,
        "wall_s": round(raw["wall_seconds"], 1),
        "ramp_s": args.ramp,
        "think_s": [args.think_min, args.think_max],
        "realistic_think": realistic_think((args.think_min, args.think_max)),
        # Each user sends one request per (think time + response time): at most this many.
        "offered_rps_max": round(args.users / ((args.think_min + args.think_max) / 2), 1)
        if args.think_max
        else None,
        "loadavg_after": loadavg_after,
        "plan_seed": args.plan_seed,
        "requests": rec.requests,
        "throughput_rps": round(rec.requests / raw["wall_seconds"], 1),
        "loops": rec.loops,
        "errors": errors,
        "errors_by_step": dict(rec.errors),
        "error_samples": rec.error_samples,
        "statuses": dict(sorted(rec.statuses.items())),
        "steps": {
            step: {**summary_ms(rec.latency[step]), "errors": rec.errors.get(step, 0)}
            for step in loadgen.STEPS
        },
        "overall": summary_ms(every),
        "server_side": server_side(server.access_log, offset),
        "cpu": cpu,
        "edit_submits_with_a_change": rec.changed_submits,
        "saved_changes_by_fields": changes,
        # The simulated users only ever change the notes: anything else is the product's.
        "changes_nobody_made": {
            fields: count
            for fields, count in changes.items()
            if set(json.loads(fields or "[]")) - {"person.notes"}
        },
    }


def budget_rows(inprocess: dict | None, exports: dict | None, load: dict | None) -> list[dict]:
    rows = []

    def row(measure, value, budget, passed, p95=None, cpu=None):
        rows.append(
            {
                "measure": measure,
                "value": value,
                "p95": p95,
                "cpu": cpu,
                "budget": budget,
                "passed": passed,
            }
        )

    def failed(label, entry, budget):
        row(f"{label}, {entry['user']}: {entry['error']}"[:160], "error", budget, False)

    def median_row(label, entry, limit):
        """A median against its budget (limit None: shown without a budget)."""
        if "error" in entry:
            failed(label, entry, f"<= {limit} ms" if limit else "-")
            return
        timing = entry["timing"]
        row(
            f"{label}, {entry['user']}: median" + ("" if limit else " (no budget)"),
            f"{timing['median']:.1f} ms",
            f"<= {limit} ms" if limit else "-",
            timing["median"] <= limit if limit else None,
            p95=f"{timing['p95']:.1f} ms",
            cpu=f"{entry['cpu']['median']:.1f} ms" if entry.get("cpu") else None,
        )

    if inprocess:
        scenarios = inprocess["scenarios"]
        labels = {
            "list_status": "List ?status=assistance",
            "list_mission": "List ?mission=<DE-BER>",
            "detail": "Case detail",
            "search": "Search by exact full name",
        }
        limits = {
            "list_status": LIST_MEDIAN_MS,
            "list_mission": LIST_MEDIAN_MS,
            "detail": DETAIL_MEDIAN_MS,
            "search": SEARCH_MEDIAN_MS,
        }
        for who in ("cw", "dpo"):
            for kind, label in labels.items():
                entry = scenarios.get(f"{kind}_{who}")
                if entry is None:
                    continue
                median_row(label, entry, limits[kind])
                if kind.startswith("list") and "error" not in entry:
                    counts = entry["queries"]
                    rows_shown = entry["rows"]
                    row(
                        f"{label}, {entry['user']}: SQL queries at page size 25 / 100"
                        f" ({rows_shown['25']} / {rows_shown['100']} rows)",
                        f"{counts['25']} / {counts['100']}",
                        "equal",
                        counts["25"] == counts["100"],
                    )
        edit = scenarios.get("edit_page_cw")
        if edit:
            median_row("Edit page", edit, None)

        steps = scenarios.get("screening_steps")
        if steps and "error" in steps:
            failed("Screening wizard", steps, f"<= {SCREENING_STEP_MEDIAN_MS} ms")
        elif steps:
            count = len(steps["steps"]) - 3  # the saved steps, without start, resume, submit
            cases = steps["steps"]["start"]["timing"]["count"]
            median_row(
                f"Screening: save one wizard step ({count} steps x {cases} cases)",
                steps,
                SCREENING_STEP_MEDIAN_MS,
            )
            slowest = max(
                (s for s in steps["steps"] if s not in {"start", "resume", "submit"}),
                key=lambda s: steps["steps"][s]["timing"]["median"],
            )
            # Each step is a page the caseworker waits for: the slowest is held to it too.
            median_row(
                f"Screening: slowest step to save ({slowest})",
                {"user": steps["user"], **steps["steps"][slowest]},
                SCREENING_STEP_MEDIAN_MS,
            )
            for what, label in (
                ("start", "Screening: start (POST .../screening/start/)"),
                ("resume", "Screening: wizard page (GET .../screening/interview/)"),
                ("submit", "Screening: submit (last step, POST)"),
            ):
                median_row(label, {"user": steps["user"], **steps["steps"][what]}, None)
        summary = scenarios.get("screening_summary")
        if summary:
            median_row(
                "Screening summary GET .../screening/v1/", summary, SCREENING_SUMMARY_MEDIAN_MS
            )

        largest = scenarios.get("dashboard_largest")
        smallest = scenarios.get("dashboard_smallest")
        if largest:
            cases = largest.get("mission_cases", "?")
            median_row(
                f"Dashboard {largest.get('mission', '')} ({cases} cases)",
                largest,
                DASHBOARD_MEDIAN_MS,
            )
        if smallest:
            median_row(
                f"Dashboard {smallest.get('mission', '')} ({smallest.get('mission_cases')} cases)",
                smallest,
                None,
            )
        if largest and smallest and "error" not in largest and "error" not in smallest:
            row(
                f"Dashboard: SQL queries, {largest['mission']} ({largest['mission_cases']} cases)"
                f" / {smallest['mission']} ({smallest['mission_cases']} cases)",
                f"{largest['queries']['count']} / {smallest['queries']['count']}",
                "equal",
                largest["queries"]["count"] == smallest["queries"]["count"],
            )
    if exports:
        for entry in exports["variants"].values():
            what = f"Export {entry['format'].upper()}" + (
                " with identifiers" if entry["identifiers"] else ""
            )
            if "rows" not in entry:
                failed(what, entry, f"<= {EXPORT_SECONDS} s")
                continue
            runs = len(entry["runs"])
            label = f"{what}, {entry['user']}, {entry['rows']} rows"
            budgeted = entry["budgeted"]
            row(
                f"{label}: median of {runs}"
                + ("" if budgeted else " (largest mission, no budget)"),
                f"{entry['seconds_median']:.2f} s",
                f"<= {EXPORT_SECONDS} s" if budgeted else "-",
                entry["seconds_median"] <= EXPORT_SECONDS if budgeted else None,
                p95=f"{entry['seconds_max']:.2f} s",
                cpu=f"{entry['cpu_seconds_median']:.2f} s",
            )
            row(
                f"{label}: peak RSS of the process (max of {runs})",
                f"{entry['peak_rss_mb_max']:.0f} MB",
                f"< {EXPORT_PEAK_MB} MB",
                entry["peak_rss_mb_max"] < EXPORT_PEAK_MB,
            )
            if budgeted and entry["rows"] < EXPORT_ROWS:
                scaled = entry["seconds_median"] * EXPORT_ROWS / max(1, entry["rows"])
                row(
                    f"{what}: fewer rows than the {EXPORT_ROWS} of the budget; time scaled"
                    " linearly (an estimate)",
                    f"{scaled:.2f} s",
                    f"<= {EXPORT_SECONDS} s",
                    None,
                )
            if "error" in entry:
                failed(what, entry, "-")
    if load:
        kind = "Load" if load["realistic_think"] else "Stress (capacity)"
        think = f"think {load['think_s'][0]:g}-{load['think_s'][1]:g} s"
        row(
            f"{kind}: errors in {load['requests']} requests ({think})",
            str(load["errors"]),
            f"= {LOAD_ERRORS}",
            load["errors"] <= LOAD_ERRORS,
        )
        overall = load["overall"]
        if not overall.get("count"):
            row(f"{kind}: all requests, p95", "no request", f"<= {LOAD_P95_MS} ms", False)
        elif load["realistic_think"]:
            row(
                f"Load: all requests, p95, {load['users']} users, {think}",
                f"{overall['p95']:.1f} ms",
                f"<= {LOAD_P95_MS} ms",
                overall["p95"] <= LOAD_P95_MS,
                p95=f"{overall['p95']:.1f} ms",
            )
        else:
            row(
                f"Stress (capacity): all requests, p95, {load['users']} users, {think} (no budget)",
                f"{overall['p95']:.1f} ms",
                "-",
                None,
                p95=f"{overall['p95']:.1f} ms",
            )
        row(
            f"{kind}: throughput (offered at most {load['offered_rps_max']} req/s)",
            f"{load['throughput_rps']} req/s",
            "-",
            None,
        )
    return rows


def print_report(setup: dict, rows: list[dict], load: dict | None, machine: dict) -> None:
    seeded = (
        f"seeded in {setup['seconds']:.0f} s" + (" (this run)" if setup["seeded_now"] else "")
        if setup.get("seconds") is not None
        else "seeding time not recorded"
    )
    print(f"\nDatabase {setup['database']}: {setup['cases']} cases, {seeded}")
    width = max([len("Measure"), *(len(r["measure"]) for r in rows)])
    print(f"\n{'Measure':<{width}} {'Value':>12} {'p95/max':>10} {'CPU':>9} {'Budget':>10}  Result")
    print("-" * (width + 54))
    for r in rows:
        result = "-" if r["passed"] is None else ("PASS" if r["passed"] else "FAIL")
        print(
            f"{r['measure']:<{width}} {r['value']:>12} {r['p95'] or '':>10} {r.get('cpu') or '':>9}"
            f" {r['budget']:>10}  {result}"
        )
    print(
        "(Value: median wall-clock time unless said; CPU: median CPU time of the Django"
        " process; the rest of Value is PostgreSQL and waiting for a CPU held by other work)"
    )
    print(f"\nMachine: {machine['cpus']} CPUs")
    for phase, cpu in machine.get("phases", {}).items():
        print(
            f"  {phase}: {cpu['wall_s']} s, load average {cpu['loadavg_before'][0]} before,"
            f" {cpu['loadavg_after'][0]} after; machine {cpu['machine_busy_pct']}% busy"
            f" ({cpu['machine_busy_s']} CPU s): benchmark processes {cpu['benchmark_s']} s,"
            f" PostgreSQL {cpu['postgres_s']} s, other processes {cpu['other_processes_s']} s"
        )
    if load:
        print(
            f"  load test: load average {machine['loadavg_before'].get('load', ['?'])[0]} before,"
            f" {load['loadavg_after'][0]} at the end (see CPU below)"
        )
        kind = "realistic" if load["realistic_think"] else "stress: capacity figure, no budget"
        print(
            f"\nLoad: {load['users']} users, {load['wall_s']:.0f} s, {load['requests']} requests"
            f" ({load['throughput_rps']} req/s), {load['loops']} full loops,"
            f" {load['errors']} errors; think time {load['think_s'][0]:g}-{load['think_s'][1]:g} s"
            f" ({kind}), offered at most {load['offered_rps_max']} req/s"
        )
        print(
            f"{'step':<12} {'count':>7} {'errors':>6} {'p50':>9} {'p95':>9} {'p99':>9}"
            f" {'max':>9}   server p50 / p95 (gunicorn log)"
        )
        server = load["server_side"]["steps"]
        for step, s in [
            *load["steps"].items(),
            ("overall", {**load["overall"], "errors": load["errors"]}),
        ]:
            side = server.get(step) if step != "overall" else load["server_side"]["overall"]
            side_text = (
                f"{side['median']:.1f} / {side['p95']:.1f} ms"
                if side and side.get("count")
                else "-"
            )
            if not s.get("count"):
                print(f"{step:<12} {0:>7} {s['errors']:>6}")
                continue
            print(
                f"{step:<12} {s['count']:>7} {s['errors']:>6} {s['median']:>7.1f}ms"
                f" {s['p95']:>7.1f}ms {s['p99']:>7.1f}ms {s['max']:>7.1f}ms   {side_text}"
            )
        cpu = load["cpu"]
        print(
            f"CPU: machine {cpu['machine_busy_pct']}% busy ({cpu['machine_busy_s']} s):"
            f" gunicorn {cpu['gunicorn_s']} s ({cpu['gunicorn_ms_per_request']} ms a request),"
            f" PostgreSQL {cpu['postgres_s']} s, load generator {cpu['load_generator_s']} s,"
            f" other processes {cpu['other_processes_s']} s"
        )
        if load["error_samples"]:
            print("First errors:")
            for sample in load["error_samples"][:10]:
                print(f"  {sample}")
        print(
            f"Edit submits: {load['loops']} saved, {load['edit_submits_with_a_change']} of them"
            " with a change to the notes; changes saved per the audit log:"
            f" {load['saved_changes_by_fields']}"
        )
        if load["changes_nobody_made"]:
            print(
                "[warning] the audit log shows changes the simulated users did not make"
                f" (they only toggle a marker in the notes): {load['changes_nobody_made']}"
            )


def main() -> int:
    args = parse_args()
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    run_dir = RESULTS_DIR / f"run-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)
    url = database_url()
    setup = prepare_database(url, reseed=args.reseed)
    machine = {"cpus": os.cpu_count(), "loadavg_before": {}, "phases": {}}
    inprocess = exports = load = None
    if not args.skip_inprocess:
        machine["loadavg_before"]["inprocess"] = busy_machine_warning()
        meter = PhaseMeter()
        inprocess = run_inprocess(url, run_dir, args)
        machine["phases"]["in-process"] = meter.done()
    if not args.skip_exports:
        machine["loadavg_before"]["exports"] = busy_machine_warning()
        meter = PhaseMeter()
        exports = run_exports(url, run_dir, args)
        machine["phases"]["exports"] = meter.done()
    if not args.skip_load:
        machine["loadavg_before"]["load"] = busy_machine_warning()
        load = run_load(url, run_dir, args)
    rows = budget_rows(inprocess, exports, load)
    passed = all(r["passed"] is not False for r in rows)
    report = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv]),
        "git": git_state(),
        "machine": machine,
        "setup": setup,
        "budgets": rows,
        "passed": passed,
        "inprocess": inprocess,
        "exports": exports,
        "load": load,
        "files": str(run_dir.relative_to(ROOT)),
    }
    print_report(setup, rows, load, machine)
    text = json.dumps(report, indent=2, default=str)
    (RESULTS_DIR / f"bench-{stamp}.json").write_text(text)
    (RESULTS_DIR / "latest.json").write_text(text)
    print(f"\nResults: bench/results/bench-{stamp}.json (details in {report['files']}/)")
    if not rows:
        print("Nothing measured (--skip-inprocess, --skip-exports and --skip-load).")
    else:
        print("ALL BUDGETS MET" if passed else "SOME BUDGETS NOT MET")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
