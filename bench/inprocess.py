"""The Django side of the benchmark, run by run.py in a subprocess with DATABASE_URL set.

`measure`: server time of the case list, case detail, identifier search, screening wizard
steps, printable screening summary and mission dashboard, measured in process with
django.test.Client (time.perf_counter around each request: URL resolving, middleware,
view, queries and template rendering), and the SQL queries each issues
(CaptureQueriesContext).

`missions`: how many cases each mission takes part in (casework.access.cases_of_missions).

`export`: one operational export (CSV or XLSX) of a mission, its time with the whole
streamed content consumed, and the peak memory (ru_maxrss) of this process doing it.

`plan`: which account and which cases each simulated user of the load test works on.
Every simulated user gets cases registered by its account's mission, and the users of one
mission split those cases between them, so no two simulated users ever edit the same case.
"""

import argparse
import csv
import io
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from common import summary_ms  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from casework.access import Perm, cases_of_missions, cases_with  # noqa: E402
from casework.demo import DEMO_PASSWORD, MISSIONS  # noqa: E402
from casework.models import Case, CaseStatus, Mission, User  # noqa: E402
from screening.models import ScreeningDraft  # noqa: E402

# The answers the wizard's own tests submit: valid for every step, whatever the case.
from screening.tests.test_wizard import ANSWERS as SCREENING_ANSWERS  # noqa: E402

CASE_LINK = re.compile(r'href="/cases/[0-9a-f-]{36}/"')
PAGE_SIZES = (25, 100)
CASEWORKER = "cw.de-ber"  # DE-BER is the destination of four of the five routes: the busiest
DPO = "dpo"
WIZARD_STEPS = list(SCREENING_ANSWERS)  # interview, consent, ..., needs, assessment (submit)
SAVED_STEPS = WIZARD_STEPS[:-1]  # the last one submits the form: timed apart
ERRORS = re.compile(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)
TAGS = re.compile(r"<[^>]+>")


class UnexpectedResponse(Exception):
    pass


def _request(client: Client, method: str, path: str, data: dict | None, expect: int):
    response = client.post(path, data) if method == "POST" else client.get(path)
    if response.status_code != expect:
        raise UnexpectedResponse(f"{method} {path}: {response.status_code}, expected {expect}")
    return response


class Timings:
    """Wall-clock seconds of requests, and the CPU seconds this process spent on each.

    The CPU time leaves out PostgreSQL's share but also the time spent waiting for a CPU:
    on a machine busy with other work, wall-clock time grows and CPU time hardly does.
    """

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)

    def entry(self) -> dict:
        return {"timing": summary_ms(self.wall), "cpu": summary_ms(self.cpu)}


def _timed(client, requests: list[tuple[str, str, dict | None]], warmup: int, expect=200):
    """Time each request; the first `warmup` ones are run but not counted."""
    timings = Timings()
    for index, (method, path, data) in enumerate(requests):
        started, cpu = time.perf_counter(), time.process_time()
        _request(client, method, path, data, expect)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if index >= warmup:
            timings.add(elapsed, cpu)
    return timings


def _captured(client, method, path, data=None, expect=200):
    with CaptureQueriesContext(connection) as ctx:
        response = _request(client, method, path, data, expect)
    queries = [{"sql": q["sql"], "ms": round(float(q["time"]) * 1000, 2)} for q in ctx]
    return response, queries


def _slowest(queries: list[dict], n: int = 3) -> list[dict]:
    ordered = sorted(queries, key=lambda q: q["ms"], reverse=True)[:n]
    return [{"ms": q["ms"], "sql": q["sql"][:600]} for q in ordered]


def _explain(queries: list[dict]) -> str:
    """EXPLAIN ANALYZE of the SELECTs a request issued, slowest first."""
    out = []
    with connection.cursor() as cursor:
        for query in sorted(queries, key=lambda q: q["ms"], reverse=True):
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            out.append(f"-- {query['ms']} ms in the request\n{query['sql']}\n{plan}\n")
    return "\n".join(out)


def _client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _visible_sample(user: User, count: int, rng: random.Random) -> list[Case]:
    ids = list(cases_with(user, Perm.CASE_VIEW).order_by("id").values_list("id", flat=True))
    chosen = rng.sample(ids, min(count, len(ids)))
    by_id = Case.objects.select_related("person").in_bulk(chosen)
    return [by_id[i] for i in chosen]


def _list_scenario(client, username, name, path, args, explain_dir, results) -> dict:
    requests = [("GET", path, None)] * (args.warmup + args.reps)
    timings = _timed(client, requests, args.warmup)
    entry = {"user": username, "request": f"GET {path}", **timings.entry()}
    entry["queries"], entry["rows"] = {}, {}
    for size in PAGE_SIZES:
        with override_settings(CASE_LIST_PAGE_SIZE=size):
            response, queries = _captured(client, "GET", path)
        entry["queries"][str(size)] = len(queries)
        entry["rows"][str(size)] = len(CASE_LINK.findall(response.content.decode()))
        if size == PAGE_SIZES[0]:
            entry["slowest_queries"] = _slowest(queries)
            if explain_dir is not None:
                target = explain_dir / f"explain-{name}.txt"
                target.write_text(_explain(queries))
                results["explain_files"].append(str(target))
    return entry


def _case_scenario(client, username, what, requests, args) -> dict:
    timings = _timed(client, requests, args.warmup)
    _response, queries = _captured(client, *requests[-1])
    return {
        "user": username,
        "request": f"{what} ({len(requests)} different cases)",
        **timings.entry(),
        "queries": {"count": len(queries)},
        "slowest_queries": _slowest(queries),
    }


def _search_scenario(client, username, label, names, args, explain_dir, results) -> dict:
    search = [("POST", "/cases/search/", {"name": name}) for name in names]
    timings = _timed(client, search, args.warmup)
    response, queries = _captured(client, *search[-1])
    if explain_dir is not None:
        target = explain_dir / f"explain-search_{label}.txt"
        target.write_text(_explain(queries))
        results["explain_files"].append(str(target))
    return {
        "user": username,
        "request": f"POST /cases/search/ name=<full name> ({len(search)} names that exist)",
        **timings.entry(),
        "queries": {"count": len(queries)},
        "rows_last": len(CASE_LINK.findall(response.content.decode())),
        "slowest_queries": _slowest(queries),
    }


def _one(client, method, path, data, expect, capture):
    """One request: ((wall, CPU seconds), response, number of SQL queries or None)."""
    started, cpu = time.perf_counter(), time.process_time()
    if capture:
        response, queries = _captured(client, method, path, data, expect)
    else:
        response, queries = _request(client, method, path, data, expect), None
    elapsed = (time.perf_counter() - started, time.process_time() - cpu)
    return elapsed, response, None if queries is None else len(queries)


def _wizard_data(step: str, draft_version: int) -> dict:
    """The POST of one wizard page, as screening/tests/test_wizard.py builds it."""
    data = {"interview-current_step": step, "draft_version": draft_version}
    for key, value in SCREENING_ANSWERS[step].items():
        data[f"{step}-{key}"] = value
    return data


def _form_errors(response) -> str:
    found = [TAGS.sub(" ", e).strip() for e in ERRORS.findall(response.content.decode())]
    return "; ".join(" ".join(e.split()) for e in found)[:300] or "no error shown"


def _screening_scenario(berlin, args, rng) -> dict:
    """Interviews of registered DE-BER cases: start, resume page, every step saved, submit.

    The first `warmup` cases are not timed (their SQL queries are counted instead); the
    next `reps` cases are. Each case leaves with a submitted screening form, as a
    caseworker would leave it: every run uses up warmup + reps registered cases.
    """
    client = _client_for(CASEWORKER)
    candidates = list(
        Case.objects.filter(
            registering_mission=berlin,
            status=CaseStatus.REGISTERED,
            screening_draft__isnull=True,
            screenings__isnull=True,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    need = args.warmup + args.reps
    if len(candidates) < need:
        raise RuntimeError(
            f"only {len(candidates)} registered DE-BER cases without a screening left"
            f" ({need} needed): reseed"
        )
    chosen = rng.sample(candidates, need)
    by_id = Case.objects.in_bulk(chosen)
    timings = {what: Timings() for what in ("start", "resume", "submit", *SAVED_STEPS)}
    queries: dict[str, int] = {}
    for index, case_id in enumerate(chosen):
        case = by_id[case_id]
        timed, capture = index >= args.warmup, index == 0
        base = f"/cases/{case.public_id}/screening/"

        def record(what, elapsed, count, timed=timed):
            if timed:
                timings[what].add(*elapsed)
            if count is not None:
                queries[what] = count

        elapsed, response, count = _one(client, "POST", base + "start/", None, 302, capture)
        if response["Location"] != base + "interview/":
            raise UnexpectedResponse(f"start {case.public_id}: to {response['Location']}")
        record("start", elapsed, count)
        elapsed, _response, count = _one(client, "GET", base + "interview/", None, 200, capture)
        record("resume", elapsed, count)
        for position, step in enumerate(WIZARD_STEPS):
            version = ScreeningDraft.objects.values_list("version", flat=True).get(case=case)
            last = position == len(WIZARD_STEPS) - 1
            elapsed, response, count = _one(
                client,
                "POST",
                base + "interview/",
                _wizard_data(step, version),
                302 if last else 200,
                capture,
            )
            if last:
                if response["Location"] != base + "v1/":
                    raise UnexpectedResponse(f"submit {case.public_id}: {response['Location']}")
                record("submit", elapsed, count)
                continue
            draft = ScreeningDraft.objects.get(case=case)
            if draft.version != version + 1 or draft.current_step != WIZARD_STEPS[position + 1]:
                raise UnexpectedResponse(
                    f"step {step} of {case.public_id} not saved (version {draft.version},"
                    f" step {draft.current_step}): {_form_errors(response)}"
                )
            record(step, elapsed, count)
    every_step = Timings()
    for step in SAVED_STEPS:
        for wall, cpu in zip(timings[step].wall, timings[step].cpu, strict=True):
            every_step.add(wall, cpu)
    return {
        "user": CASEWORKER,
        "request": f"POST /cases/<id>/screening/interview/ ({len(SAVED_STEPS)} steps"
        f" x {args.reps} cases, each with the draft's current version)",
        **every_step.entry(),
        "steps": {what: t.entry() for what, t in timings.items()},
        "queries": queries,
        "cases_used": need,
        "registered_cases_left": len(candidates) - need,
    }


def _summary_scenario(user, args, rng) -> dict:
    client = _client_for(user.username)
    ids = list(
        cases_with(user, Perm.CASE_VIEW)
        .filter(screenings__number=1)
        .order_by("id")
        .values_list("id", flat=True)
    )
    chosen = rng.sample(ids, min(args.warmup + args.reps, len(ids)))
    public = dict(Case.objects.filter(pk__in=chosen).values_list("id", "public_id"))
    requests = [("GET", f"/cases/{public[i]}/screening/v1/", None) for i in chosen]
    entry = _case_scenario(client, user.username, "GET /cases/<id>/screening/v1/", requests, args)
    entry["cases_with_a_form"] = len(ids)
    return entry


def mission_sizes() -> dict[str, dict]:
    """Cases each mission takes part in, largest first."""
    sizes = {
        m.code: {"id": m.pk, "cases": cases_of_missions({m.pk}).count()}
        for m in Mission.objects.order_by("code")
    }
    return dict(sorted(sizes.items(), key=lambda item: -item[1]["cases"]))


def _dashboard_scenario(code: str, mission: dict, args) -> dict:
    username = f"mgr.{code.lower()}"
    client = _client_for(username)
    path = f"/dashboard/?mission={mission['id']}"
    timings = _timed(client, [("GET", path, None)] * (args.warmup + args.reps), args.warmup)
    response, queries = _captured(client, "GET", path)
    if code not in response.content.decode():
        raise UnexpectedResponse(f"GET {path}: the page does not name {code}")
    return {
        "user": username,
        "request": f"GET {path}",
        "mission": code,
        "mission_cases": mission["cases"],
        **timings.entry(),
        "queries": {"count": len(queries)},
        "slowest_queries": _slowest(queries),
    }


def _run(results: dict, name: str, username: str, scenario, *arguments) -> None:
    """Run one scenario; a page that fails is reported as such, and the others still run."""
    try:
        entry = scenario(*arguments)
    except Exception as failure:  # noqa: BLE001  (any failure of the page is the finding)
        message = f"{type(failure).__name__}: {str(failure).strip().splitlines()[0][:300]}"
        results["scenarios"][name] = {"user": username, "error": message}
        print(f"[in-process] {name:<18} FAILED: {message}", flush=True)
        return
    results["scenarios"][name] = entry
    timing = entry["timing"]
    print(
        f"[in-process] {name:<18} median {timing['median']:7.1f} ms  p95 {timing['p95']:7.1f} ms"
        f"  (CPU median {entry['cpu']['median']:6.1f} ms)  queries {entry['queries']}",
        flush=True,
    )


def measure(args) -> dict:
    rng = random.Random(args.sample_seed)
    berlin = Mission.objects.get(code="DE-BER")
    results: dict = {"scenarios": {}, "users": {}, "explain_files": []}
    explain_dir = Path(args.explain_dir) if args.explain_dir else None

    for label, username in (("cw", CASEWORKER), ("dpo", DPO)):
        user = User.objects.get(username=username)
        client = _client_for(username)
        visible = cases_with(user, Perm.CASE_VIEW).count()
        results["users"][label] = {"username": username, "visible_cases": visible}
        print(f"[in-process] {username}: sees {visible} cases", flush=True)

        lists = {
            f"list_status_{label}": "/cases/?status=assistance",
            f"list_mission_{label}": f"/cases/?mission={berlin.pk}",
        }
        for name, path in lists.items():
            _run(
                results,
                name,
                username,
                _list_scenario,
                client,
                username,
                name,
                path,
                args,
                explain_dir,
                results,
            )

        sample = _visible_sample(user, args.warmup + args.reps, rng)
        detail = [("GET", f"/cases/{case.public_id}/", None) for case in sample]
        _run(
            results,
            f"detail_{label}",
            username,
            _case_scenario,
            client,
            username,
            "GET /cases/<id>/",
            detail,
            args,
        )
        if label == "cw":
            edit = [("GET", f"/cases/{case.public_id}/edit/", None) for case in sample]
            _run(
                results,
                "edit_page_cw",
                username,
                _case_scenario,
                client,
                username,
                "GET /cases/<id>/edit/",
                edit,
                args,
            )
        names = [f"{c.person.given_names} {c.person.family_names}" for c in sample]
        _run(
            results,
            f"search_{label}",
            username,
            _search_scenario,
            client,
            username,
            label,
            names,
            args,
            explain_dir,
            results,
        )

    # Screening (issue 3): wizard steps and the printable summary, as the caseworker.
    caseworker = User.objects.get(username=CASEWORKER)
    _run(results, "screening_steps", CASEWORKER, _screening_scenario, berlin, args, rng)
    _run(results, "screening_summary", CASEWORKER, _summary_scenario, caseworker, args, rng)

    # Dashboard (issue 4): the largest and the smallest mission, each as its manager.
    sizes = mission_sizes()
    results["missions"] = sizes
    print(f"[in-process] cases per mission: { {c: m['cases'] for c, m in sizes.items()} }")
    for name, code in (
        ("dashboard_largest", next(iter(sizes))),
        ("dashboard_smallest", [*sizes][-1]),
    ):
        _run(results, name, f"mgr.{code.lower()}", _dashboard_scenario, code, sizes[code], args)
    return results


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def export(args) -> dict:
    """One export in this fresh process: time with the content consumed, peak memory."""
    mission = Mission.objects.get(code=args.mission)
    client = _client_for(args.username)
    path = f"/dashboard/export/?mission={mission.pk}&format={args.format}"
    if args.identifiers:
        path += "&include_identifiers=1"
    # Load the URLconf, the views and the export code (openpyxl) before the baseline.
    _request(client, "GET", f"/dashboard/export/?mission={mission.pk}&format=none", None, 400)
    baseline = _maxrss_mb()
    with tempfile.TemporaryFile() as sink:
        started, cpu = time.perf_counter(), time.process_time()
        response = _request(client, "GET", path, None, 200)
        size = 0
        for chunk in response.streaming_content:
            sink.write(chunk)
            size += len(chunk)
        response.close()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = _maxrss_mb()
        sink.seek(0)
        if args.format == "csv":
            rows = list(csv.reader(io.TextIOWrapper(sink, encoding="utf-8-sig", newline="")))
            header, body = rows[0], rows[1:]
        else:
            from openpyxl import load_workbook

            sheet = load_workbook(sink, read_only=True).active
            header, *body = ([str(v) if v is not None else "" for v in row] for row in sheet.values)
    expected = cases_of_missions({mission.pk}).count()
    if len(body) != expected:
        raise SystemExit(f"{path}: {len(body)} rows, expected {expected}")
    with_names = (
        sum(1 for row in body if row[header.index("family_names")])
        if ("family_names" in header)
        else 0
    )
    if args.identifiers and not with_names:
        raise SystemExit(f"{path} as {args.username}: no identifiers in the export")
    return {
        "request": f"GET {path}",
        "user": args.username,
        "mission": args.mission,
        "format": args.format,
        "identifiers": args.identifiers,
        "rows": len(body),
        "rows_with_names": with_names,
        "bytes": size,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "peak_rss_mb": round(peak, 1),
        "baseline_rss_mb": round(baseline, 1),
    }


def plan(args) -> dict:
    """Give each simulated user an account and cases of its own to open and edit."""
    rng = random.Random(args.plan_seed)
    accounts = []
    for code, _city, _country in MISSIONS:
        accounts += [(f"cw.{code.lower()}", code), (f"mgr.{code.lower()}", code)]
    missions = {m.code: m.pk for m in Mission.objects.all()}
    assigned = [accounts[i % len(accounts)] for i in range(args.users)]
    by_mission: dict[str, list[int]] = {}
    for index, (_username, code) in enumerate(assigned):
        by_mission.setdefault(code, []).append(index)
    pools: dict[int, list[str]] = {}
    for code, members in by_mission.items():
        ids = list(
            Case.objects.filter(registering_mission__code=code)
            .order_by("id")
            .values_list("public_id", flat=True)
        )
        rng.shuffle(ids)
        for position, index in enumerate(members):
            pools[index] = [str(u) for u in ids[position :: len(members)][: args.pool_size]]
    return {
        "plan_seed": args.plan_seed,
        "password": DEMO_PASSWORD,
        "users": [
            {
                "index": index,
                "username": username,
                "mission_code": code,
                "mission_id": missions[code],
                "cases": pools[index],
            }
            for index, (username, code) in enumerate(assigned)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--out", required=True)
    m.add_argument("--reps", type=int, default=30)
    m.add_argument("--warmup", type=int, default=3)
    m.add_argument("--sample-seed", type=int, default=1)
    m.add_argument("--explain-dir", default="")
    sub.add_parser("missions").add_argument("--out", required=True)
    e = sub.add_parser("export")
    e.add_argument("--out", required=True)
    e.add_argument("--mission", required=True, help="mission code")
    e.add_argument("--username", required=True)
    e.add_argument("--format", choices=["csv", "xlsx"], required=True)
    e.add_argument("--identifiers", action="store_true")
    p = sub.add_parser("plan")
    p.add_argument("--out", required=True)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--pool-size", type=int, required=True)
    p.add_argument("--plan-seed", type=int, required=True)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit(f"The benchmark needs PostgreSQL, not {connection.vendor}.")
    commands = {
        "measure": measure,
        "plan": plan,
        "export": export,
        "missions": lambda _args: {"missions": mission_sizes()},
    }
    result = commands[args.command](args)
    result["database"] = {
        "vendor": connection.vendor,
        "name": connection.settings_dict["NAME"],
        "server_version": connection.pg_version,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
