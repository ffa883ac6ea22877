"""The Django side of the benchmark, run by run.py in a subprocess with DATABASE_URL set.

`measure`: server time of the case list, case detail and identifier search, measured in
process with django.test.Client (time.perf_counter around each request: URL resolving,
middleware, view, queries and template rendering), and the SQL queries each issues
(CaptureQueriesContext).

`plan`: which account and which cases each simulated user of the load test works on.
Every simulated user gets cases registered by its account's mission, and the users of one
mission split those cases between them, so no two simulated users ever edit the same case.
"""

import argparse
import json
import os
import random
import re
import sys
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

from casework.access import Perm, cases_with  # noqa: E402
from casework.demo import DEMO_PASSWORD, MISSIONS  # noqa: E402
from casework.models import Case, Mission, User  # noqa: E402

CASE_LINK = re.compile(r'href="/cases/[0-9a-f-]{36}/"')
PAGE_SIZES = (25, 100)
CASEWORKER = "cw.de-ber"  # DE-BER is the destination of four of the five routes: the busiest
DPO = "dpo"


class UnexpectedResponse(Exception):
    pass


def _request(client: Client, method: str, path: str, data: dict | None, expect: int):
    response = client.post(path, data) if method == "POST" else client.get(path)
    if response.status_code != expect:
        raise UnexpectedResponse(f"{method} {path}: {response.status_code}, expected {expect}")
    return response


def _timed(client, requests: list[tuple[str, str, dict | None]], warmup: int, expect=200):
    """Time each request; the first `warmup` ones are run but not counted."""
    seconds = []
    for index, (method, path, data) in enumerate(requests):
        started = time.perf_counter()
        _request(client, method, path, data, expect)
        elapsed = time.perf_counter() - started
        if index >= warmup:
            seconds.append(elapsed)
    return seconds


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
    seconds = _timed(client, requests, args.warmup)
    entry = {"user": username, "request": f"GET {path}", "timing": summary_ms(seconds)}
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
    seconds = _timed(client, requests, args.warmup)
    _response, queries = _captured(client, *requests[-1])
    return {
        "user": username,
        "request": f"{what} ({len(requests)} different cases)",
        "timing": summary_ms(seconds),
        "queries": {"count": len(queries)},
        "slowest_queries": _slowest(queries),
    }


def _search_scenario(client, username, label, names, args, explain_dir, results) -> dict:
    search = [("POST", "/cases/search/", {"name": name}) for name in names]
    seconds = _timed(client, search, args.warmup)
    response, queries = _captured(client, *search[-1])
    if explain_dir is not None:
        target = explain_dir / f"explain-search_{label}.txt"
        target.write_text(_explain(queries))
        results["explain_files"].append(str(target))
    return {
        "user": username,
        "request": f"POST /cases/search/ name=<full name> ({len(search)} names that exist)",
        "timing": summary_ms(seconds),
        "queries": {"count": len(queries)},
        "rows_last": len(CASE_LINK.findall(response.content.decode())),
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
        f"  queries {entry['queries']}",
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
    return results


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
    p = sub.add_parser("plan")
    p.add_argument("--out", required=True)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--pool-size", type=int, required=True)
    p.add_argument("--plan-seed", type=int, required=True)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit(f"The benchmark needs PostgreSQL, not {connection.vendor}.")
    result = measure(args) if args.command == "measure" else plan(args)
    result["database"] = {
        "vendor": connection.vendor,
        "name": connection.settings_dict["NAME"],
        "server_version": connection.pg_version,
    }
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
