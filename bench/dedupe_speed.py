"""Speed, memory and stability of the deduplication engine (see bench/README.md).

    .venv/bin/python bench/dedupe_speed.py [--parts batch profile incremental stability]

batch        `manage.py dedupe_link` on synthetic CSV files (synthetic.generate, about 20 %
             duplicates) of growing size: wall time, CPU time and peak memory (ru_maxrss of
             the subprocess, from os.wait4), and cluster precision/recall of its output.
             A size whose time, projected from the last two measured sizes, exceeds
             --max-projected-minutes is not run: the projection is reported instead.
profile      pipeline.link on --profile-size records, stage by stage (table, blocking,
             u, comparisons, m, prior, scoring, clustering), then under cProfile.
incremental  dedupe.services.person_match for one new person against N people in a
             PostgreSQL database of its own (BENCH_DEDUPE_DATABASE_URL, default
             postgres://postgres@127.0.0.1:5432/casework_dedupe_bench): median and p95 over
             --probes new people, half of them re-registrations of a stored person.
stability    cluster --stability-size records, then the same plus 1 % new with the model
             fitted on the first run (as `dedupe_link --model` and `dedupe_run` reuse the
             stored model); share of the original records whose set of co-members among
             the originals changed (also reported, without a budget, when refitted).

Prints each figure beside its budget, writes bench/results/dedupe-speed-<time>.json (and
dedupe-speed-latest.json), and exits with status 1 if a measured budget is not met.
Each part runs in a subprocess of its own (this script with --worker).
"""

import argparse
import csv
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

BATCH_BUDGET_SIZE = 1_000_000
BATCH_BUDGET_SECONDS = 300
BATCH_BUDGET_MB = 6 * 1024
MATCH_MEDIAN_MS = 50
MATCH_P95_MS = 150
MATCH_BUDGET_PEOPLE = 1_000_000
STABILITY_BUDGET = 0.001
PROBES_AMONG = 100_000
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/casework_dedupe_bench"
SEED = 11


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def measured_run(cmd: list[str], *, env=None, timeout: float | None = None, out=None) -> dict:
    """Run a command; wall time, CPU time and peak RSS of that process (os.wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    timed_out = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if timeout and time.perf_counter() - started > timeout:
            os.killpg(process.pid, signal.SIGKILL)
            timed_out = True
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_mb": round(usage.ru_maxrss / 1024),  # kilobytes on Linux
        "returncode": process.returncode,
        "timed_out": timed_out,
    }


# Batch -------------------------------------------------------------------------------


def synthetic_csv(n: int, data_dir: Path) -> tuple[Path, list[int]]:
    """Write synthetic.generate(n, seed=SEED) as the CSV dedupe_link reads (once)."""
    from dedupe.engine import synthetic

    path = data_dir / f"synthetic-{n}-seed{SEED}-with-extras.csv"
    records, labels = synthetic.generate(n, seed=SEED)
    if not path.exists():
        partial = path.with_suffix(".partial")
        with open(partial, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=synthetic.CSV_FIELDS)
            writer.writeheader()
            writer.writerows(synthetic.csv_row(r) for r in records)
        partial.rename(path)
    return path, labels


def output_accuracy(out: Path, labels: list[int]) -> dict:
    """Cluster precision/recall of dedupe_link's id,cluster output against the truth."""
    from dedupe.engine import clustering, synthetic

    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    position = {row["id"]: index for index, row in enumerate(rows)}
    clusters = [position[row["cluster"]] for row in rows]
    import numpy as np

    predicted = clustering.pairs_from_labels(np.array(clusters))
    truth = synthetic.true_pairs(labels)
    return clustering.precision_recall(predicted, truth)


def project(points: list[tuple[int, float]], n: int) -> float | None:
    """Time at n from the last two (size, seconds), as a power law."""
    if len(points) < 2:
        return None
    (n1, t1), (n2, t2) = points[-2], points[-1]
    exponent = math.log(t2 / t1) / math.log(n2 / n1)
    return t2 * (n / n2) ** exponent


def part_batch(args) -> dict:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    runs, points = [], []
    for n in args.sizes:
        projected = project(points, n)
        if projected is not None and projected > args.max_projected_minutes * 60:
            log(
                f"batch {n:,}: not run, projected {projected / 60:.0f} min"
                f" > {args.max_projected_minutes} min"
            )
            runs.append({"records": n, "skipped": True, "projected_seconds": round(projected)})
            continue
        path, labels = synthetic_csv(n, data_dir)
        out = data_dir / f"clusters-{n}.csv"
        out.unlink(missing_ok=True)
        timeout = args.timeout_minutes * 60
        log(
            f"batch {n:,}: manage.py dedupe_link (load average {load_average()}, timeout"
            f" {args.timeout_minutes} min"
            + (f", projected {projected / 60:.1f} min)" if projected else ")")
        )
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings")
        with open(data_dir / f"dedupe_link-{n}.log", "w") as output:
            measured = measured_run(
                [PYTHON, "manage.py", "dedupe_link", "--input", str(path), "--out", str(out)],
                env=env,
                timeout=timeout,
                out=output,
            )
        run = {
            "records": n,
            "file": str(path),
            **measured,
            "load_average_after": load_average(),
            "projected_seconds": round(projected) if projected else None,
        }
        if measured["returncode"] == 0:
            run["accuracy"] = output_accuracy(out, labels)
            points.append((n, measured["seconds"]))
        log(
            f"batch {n:,}: {measured['seconds']:.0f} s wall, {measured['cpu_seconds']:.0f} s"
            f" CPU, peak {measured['peak_mb']:,} MB, rc {measured['returncode']}"
            + (" (timed out)" if measured["timed_out"] else "")
            + (f"; clusters {run['accuracy']}" if "accuracy" in run else "")
        )
        runs.append(run)
        if measured["timed_out"]:
            points.append((n, float(timeout)))  # a lower bound for what follows
    exponent = None
    measured_points = [(r["records"], r["seconds"]) for r in runs if r.get("returncode") == 0]
    if len(measured_points) >= 2:
        (n1, t1), (n2, t2) = measured_points[0], measured_points[-1]
        exponent = round(math.log(t2 / t1) / math.log(n2 / n1), 2)
    budget_run = next((r for r in runs if r["records"] == BATCH_BUDGET_SIZE), None)
    projected_1m = project(measured_points, BATCH_BUDGET_SIZE)
    return {
        "runs": runs,
        "scaling_exponent": exponent,
        "projected_seconds_1m": round(projected_1m) if projected_1m else None,
        "budget_run": budget_run,
    }


# Profile -----------------------------------------------------------------------------


def part_profile(args) -> dict:
    """Stage times of pipeline.link (the same calls, one by one), under cProfile unless
    --no-cprofile (cProfile slows the Python loops, so stage times are then inflated)."""
    import cProfile
    import io
    import pstats
    import resource

    import numpy as np

    from dedupe.engine import clustering, linkage, pipeline, synthetic

    n = args.profile_size
    records, _labels = synthetic.generate(n, seed=SEED)
    stages = {}
    profile = None if args.no_cprofile else cProfile.Profile()

    def timed(name, call):
        started = time.perf_counter()
        value = call()
        stages[name] = round(time.perf_counter() - started, 2)
        log(f"profile {n:,}: {name} {stages[name]:.1f} s")
        return value

    if profile:
        profile.enable()
    table = timed("build_table", lambda: linkage.build_table(records))
    pairs = timed("candidate_pairs", lambda: linkage.candidate_pairs(table))
    u = timed("fit: estimate_u", lambda: linkage.estimate_u(table))
    levels = timed("fit: compare", lambda: linkage.compare(table, pairs))
    frequency = timed("fit: name_frequencies", lambda: linkage.name_frequencies(table))

    def m_step():  # as linkage.fit does it
        given_f = np.array([frequency["given"].get(f"|{v}", 0.0) for v in table.given[pairs[:, 0]]])
        family_f = np.array(
            [frequency["family"].get(f"|{v}", 0.0) for v in table.family[pairs[:, 0]]]
        )
        rare = len(table) * len(table) * given_f * family_f / 2 < 1
        return linkage.Model(
            m=linkage.estimate_m(levels, u, rare), u=u, prior=0.5, name_frequency=frequency
        )

    model = timed("fit: rare names + estimate_m", m_step)
    model.prior = timed(
        "fit: estimate_prior", lambda: linkage.estimate_prior(model, table, pairs, levels)
    )
    probabilities, _ = timed("score", lambda: linkage.score(model, table, pairs))
    timed(
        "cluster",
        lambda: clustering.cluster(len(table), pairs, probabilities, pipeline.CLUSTER_THRESHOLD),
    )
    top = []
    if profile:
        profile.disable()
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text).sort_stats("tottime")
        stats.print_stats(30)
        for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in sorted(
            stats.stats.items(), key=lambda item: -item[1][2]
        )[:25]:
            top.append(
                {
                    "function": f"{Path(filename).name}:{line}({function})",
                    "calls": calls,
                    "tottime": round(tottime, 2),
                    "cumtime": round(cumtime, 2),
                }
            )
        (RESULTS_DIR / f"dedupe-profile-{n}.txt").write_text(text.getvalue())
    return {
        "records": n,
        "cprofile": bool(profile),
        "candidate_pairs": len(pairs),
        "pairs_per_record": round(len(pairs) / n, 1),
        "stages_seconds": stages,
        "stages_total_seconds": round(sum(stages.values()), 1),
        "top_tottime": top,
        "blocks": _block_sizes(table),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _block_sizes(table) -> dict:
    """How the blocks look: sizes, those over MAX_BLOCK (skipped), pairs per key kind."""
    from collections import Counter, defaultdict

    from dedupe.engine import linkage

    blocks = defaultdict(int)
    for i in range(len(table)):
        for key in linkage.blocking_keys(table, i):
            blocks[key] += 1
    kinds = Counter()
    skipped = Counter()
    for key, size in blocks.items():
        kind = key.split("|", 1)[0]
        if size > linkage.MAX_BLOCK:
            skipped[kind] += 1
        elif size > 1:
            kinds[kind] += size * (size - 1) // 2
    sizes = sorted(blocks.values())
    return {
        "keys": len(blocks),
        "largest": sizes[-1],
        "over_max_block": sum(1 for s in sizes if s > linkage.MAX_BLOCK),
        "records_in_skipped_blocks": sum(s for s in sizes if s > linkage.MAX_BLOCK),
        "pairs_by_kind_before_dedup": dict(kinds.most_common()),
        "skipped_blocks_by_kind": dict(skipped.most_common()),
    }


# Incremental -------------------------------------------------------------------------


def _split_probes(total: int, probes: int, first: int) -> tuple[list[dict], list[dict], dict]:
    """Stored records (in order) and probe records; half of the probes are re-registrations.

    Probes are taken among the first `first` records, so that with any number of stored
    people >= first the stored partner of a re-registration is there.
    """
    import random

    from dedupe.engine import synthetic

    records, labels = synthetic.generate(total, seed=SEED)
    rng = random.Random(SEED)
    seconds = [i for i in range(1, first) if labels[i] == labels[i - 1]]  # second record of a pair
    singles = [
        i for i in range(1, first - 1) if labels[i] != labels[i - 1] and labels[i] != labels[i + 1]
    ]
    chosen_dups = rng.sample(seconds, probes // 2)
    chosen_single = rng.sample(singles, probes - probes // 2)
    chosen = set(chosen_dups) | set(chosen_single)
    stored = [r for i, r in enumerate(records) if i not in chosen]
    stored_label = [labels[i] for i in range(len(records)) if i not in chosen]
    partner = {}
    label_to_stored = {}
    for index, label in enumerate(stored_label):
        label_to_stored.setdefault(label, index)
    probe_records = []
    for i in sorted(chosen):
        probe_records.append(records[i])
        if i in set(chosen_dups):
            partner[records[i]["id"]] = label_to_stored[labels[i]]
    return stored, probe_records, partner


def _person(record: dict, missions: list, index: int):
    from casework import blind_index
    from casework.models import Person, Sex

    dob = record["date_of_birth"] or None
    born = datetime.strptime(dob, "%Y-%m-%d").date() if dob else None
    sex = {"F": Sex.FEMALE, "M": Sex.MALE}.get(record["sex"], Sex.UNKNOWN)
    person = Person(
        given_names=record["given_name"],
        family_names=record["family_name"],
        date_of_birth=born,
        birth_year=record["birth_year"],
        birth_year_estimated=born is None,
        sex=sex,
        citizenship=record["citizenship"],
        registered_by=missions[index % len(missions)],
    )
    person.name_index = blind_index.name_index(person.given_names, person.family_names)
    person.family_name_index = blind_index.family_name_index(person.family_names)
    person.date_of_birth_index = blind_index.date_of_birth_index(born)
    return person


def _copy(table: str, columns: tuple[str, ...], rows) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _copy_people(people: list) -> None:
    """Insert Person rows by COPY, with ids taken from the table's sequence.

    Each value is prepared by its field (get_db_prep_save: encryption, country codes,
    created_at), as bulk_create would; only the token of an empty encrypted field is
    encrypted once and reused (same length, decrypts the same), which makes loading a
    million people several times faster.
    """
    from django.db import connection
    from encrypted_model_fields.fields import EncryptedMixin

    from casework.models import Person

    fields = list(Person._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('casework_person', 'id'))"
            " FROM generate_series(1, %s)",
            [len(people)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    empty = {}
    rows = []
    for person, pk in zip(people, ids, strict=True):
        person.pk = pk
        row = []
        for f in fields:
            value = f.pre_save(person, add=True)
            if isinstance(f, EncryptedMixin) and value in ("", None):
                if value not in empty:
                    empty[value] = f.get_db_prep_save(value, connection)
                row.append(empty[value])
            else:
                row.append(f.get_db_prep_save(value, connection))
        rows.append(row)
    _copy("casework_person", tuple(f.column for f in fields), rows)


def _populate(stored: list[dict], target: int, batch: int = 10_000) -> dict:
    """Add stored people until there are `target`: Person rows (see _copy_people), their
    MatchKey rows (digests of the blocking keys, as person_index stores them) and
    PersonCluster rows, by COPY."""
    from casework.demo import create_staff
    from casework.models import Mission, Person
    from dedupe import services
    from dedupe.engine import linkage

    create_staff()
    missions = list(Mission.objects.order_by("code"))
    have = Person.objects.count()
    started = time.perf_counter()
    for start in range(have, target, batch):
        chunk = stored[start : min(target, start + batch)]
        people = [_person(r, missions, start + k) for k, r in enumerate(chunk)]
        _copy_people(people)
        table = linkage.build_table([services.record_of(p) for p in people])
        keys = [
            (p.pk, d) for k, p in enumerate(people) for d in set(services.key_digests(table, k))
        ]
        _copy("dedupe_matchkey", ("person_id", "digest"), keys)
        _copy("dedupe_personcluster", ("person_id", "cluster"), ((p.pk, p.pk) for p in people))
        done = start + len(chunk)
        if done % 50_000 < batch or done == target:
            rate = (done - have) / (time.perf_counter() - started)
            log(f"incremental: {done:,} people stored ({rate:.0f}/s)")
    return {"added": max(0, target - have), "seconds": round(time.perf_counter() - started)}


def _store_model(stored: list[dict], n: int, fit_sample: int) -> dict:
    """A fitted LinkageModel as run_batch stores it: fitted on every stored record (or,
    with --fit-sample k > 0, on the first k: a smaller caseload, duplicates kept together,
    its prior scaled by k / n since chance pairs grow with the square of the caseload and
    matches with it), name frequencies over all of them (digests, as run_batch stores
    them). A random sample of records would hold almost no pair of duplicates, and EM
    would fit m on different people only."""
    from casework import blind_index
    from dedupe.engine import linkage
    from dedupe.models import LinkageModel

    started = time.perf_counter()
    k = n if fit_sample <= 0 or fit_sample >= n else fit_sample
    full = linkage.build_table(stored[:n])
    table = full if k == n else linkage.build_table(stored[:k])
    model = linkage.fit(table)
    prior = model.prior * k / n
    frequencies = model.name_frequency if k == n else linkage.name_frequencies(full)
    LinkageModel.objects.create(
        parameters={**model.as_dict(), "prior": prior},
        name_frequency={
            name: {blind_index.digest("name-frequency", key): v for key, v in values.items()}
            for name, values in frequencies.items()
        },
        people=n,
        pairs=0,
    )
    return {"fit_on": k, "prior": prior, "seconds": round(time.perf_counter() - started)}


def _cleanup_probes(first_probe_pk: int | None) -> None:
    from casework.models import Person
    from dedupe.models import MatchCandidate

    if first_probe_pk is None:
        return
    MatchCandidate.objects.all().delete()
    Person.objects.filter(pk__gte=first_probe_pk).delete()


def part_incremental(args) -> dict:
    import django

    django.setup()
    from django.db import connection

    from casework.models import Mission, Person
    from dedupe import services
    from dedupe.models import MatchCandidate

    largest = max(args.people)
    # Probes among the first 100,000 records (or fewer): the same whatever sizes a run
    # measures, so that a database loaded by an earlier run holds the same stored order.
    first = min(min(args.people), PROBES_AMONG)
    stored, probes, partner = _split_probes(largest + args.probes, args.probes, first)
    log(f"incremental: {len(stored):,} records to store, {len(probes)} probes")
    results = []
    for n in sorted(args.people):
        stage = {"people": n, "load_average_before": load_average()}
        # People beyond n (from a larger earlier run) would falsify the figure.
        have = Person.objects.count()
        if have > n:
            raise SystemExit(
                f"The database holds {have:,} people, more than {n:,}: drop it"
                " (--reset-database) or measure larger sizes only."
            )
        stage["populate"] = _populate(stored, n)
        stage["model"] = _store_model(stored, n, args.fit_sample)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT count(*) FROM dedupe_matchkey")
            stage["match_keys"] = cursor.fetchone()[0]
        missions = list(Mission.objects.order_by("code"))
        timings, found, candidates, queued = [], [], [], []
        first_probe_pk = None
        log(f"incremental {n:,}: {len(probes)} probes (load average {load_average()})")
        for k, record in enumerate(probes):
            person = _person(record, missions, k)
            Person.objects.bulk_create([person])  # bulk_create: no on-save hook
            first_probe_pk = first_probe_pk or person.pk
            started = time.perf_counter()
            stored_candidates = services.person_match(person)
            elapsed = time.perf_counter() - started
            if k >= args.warmup:
                timings.append(elapsed)
            digests = services.person_index(person)
            candidates.append(
                Person.objects.filter(match_keys__digest__in=digests)
                .exclude(pk=person.pk)
                .distinct()
                .count()
            )
            queued.append(len(stored_candidates))
            if record["id"] in partner:
                # Person pks follow the stored order: the partner is the first stored pk + index.
                partner_pk = (
                    stage.setdefault(
                        "first_pk", Person.objects.order_by("pk").values_list("pk", flat=True)[0]
                    )
                    + partner[record["id"]]
                )
                found.append(
                    MatchCandidate.objects.filter(
                        person_a_id=min(partner_pk, person.pk),
                        person_b_id=max(partner_pk, person.pk),
                    ).exists()
                )
        ms = [t * 1000 for t in timings]
        stage.update(
            {
                "probes_timed": len(ms),
                "median_ms": round(statistics.median(ms), 1),
                "p95_ms": round(percentile(ms, 95), 1),
                "max_ms": round(max(ms), 1),
                "candidates_median": statistics.median(candidates),
                "candidates_max": max(candidates),
                "probes_over_500_candidates": sum(1 for c in candidates if c > 500),
                "queued_median": statistics.median(queued),
                "re_registrations": len(found),
                "re_registrations_queued": sum(found),
                "load_average_after": load_average(),
            }
        )
        log(
            f"incremental {n:,}: median {stage['median_ms']} ms, p95 {stage['p95_ms']} ms;"
            f" candidates median {stage['candidates_median']}, >500 for"
            f" {stage['probes_over_500_candidates']} of {len(candidates)};"
            f" re-registrations queued {sum(found)}/{len(found)}"
        )
        _cleanup_probes(first_probe_pk)
        stage.pop("first_pk", None)
        results.append(stage)
    return {"database": _safe_url(os.environ.get("DATABASE_URL", "")), "stages": results}


def _safe_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


def prepare_database(url: str, reset: bool) -> None:
    from common import create_database, database_exists, drop_database, manage

    if reset and database_exists(url):
        log("incremental: dropping the database")
        drop_database(url)
    if not database_exists(url):
        log("incremental: creating the database")
        create_database(url)
    manage(url, "migrate", "--verbosity", "0")


# Stability ---------------------------------------------------------------------------


def comembers(labels, n_original: int) -> list[frozenset]:
    from collections import defaultdict

    groups = defaultdict(set)
    for index in range(n_original):
        groups[int(labels[index])].add(index)
    return [frozenset(groups[int(labels[index])] - {index}) for index in range(n_original)]


def part_stability(args) -> dict:
    import resource

    from dedupe.engine import pipeline, synthetic

    n = args.stability_size
    added = max(1, round(n * args.stability_new))
    records, _labels = synthetic.generate(n + added, seed=SEED)
    started = time.perf_counter()
    first_run = pipeline.link(records[:n], synthetic.EXTRA_FIELDS)
    before = first_run.labels
    first = time.perf_counter() - started
    log(f"stability: {n:,} records clustered in {first:.0f} s (model fitted on them)")
    # As in the product: the model fitted on the first run is stored and reused
    # (`dedupe_link --model PATH`, `dedupe_run` without --refit).
    started = time.perf_counter()
    after = pipeline.link(records, synthetic.EXTRA_FIELDS, model=first_run.model).labels
    second = time.perf_counter() - started
    log(f"stability: {n + added:,} records clustered in {second:.0f} s (stored model)")
    old = comembers(before, n)
    result = {"records": n, "added": added, "model": "stored (fitted on the first run)"}
    result.update(_changes(old, comembers(after, n)))
    started = time.perf_counter()
    refitted = pipeline.link(records, synthetic.EXTRA_FIELDS).labels
    third = time.perf_counter() - started
    log(f"stability: {n + added:,} records clustered in {third:.0f} s (model refitted)")
    result["refit"] = _changes(old, comembers(refitted, n))
    result.update(
        {
            "in_clusters_before": sum(1 for c in old if c),
            "seconds": [round(first), round(second), round(third)],
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )
    log(
        f"stability: changed {result['changed_share']:.5f} with the stored model,"
        f" {result['refit']['changed_share']:.5f} refitted"
    )
    return result


def _changes(old: list, new: list) -> dict:
    n = len(old)
    changed = [i for i in range(n) if old[i] != new[i]]
    joined = sum(1 for i in changed if old[i] < new[i])
    left = sum(1 for i in changed if new[i] < old[i])
    return {
        "changed": len(changed),
        "changed_share": len(changed) / n,
        "changed_gained_comembers_only": joined,
        "changed_lost_comembers_only": left,
        "changed_both": len(changed) - joined - left,
    }


# Orchestration -----------------------------------------------------------------------

PARTS = {
    "batch": part_batch,
    "profile": part_profile,
    "incremental": part_incremental,
    "stability": part_stability,
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument(
        "--sizes", nargs="+", type=int, default=[100_000, 200_000, 400_000, 1_000_000]
    )
    parser.add_argument("--max-projected-minutes", type=float, default=20)
    parser.add_argument("--timeout-minutes", type=float, default=25, help="per dedupe_link run")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "dedupe-bench"))
    parser.add_argument("--profile-size", type=int, default=100_000)
    parser.add_argument("--no-cprofile", action="store_true", help="stage times only")
    parser.add_argument("--people", nargs="+", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--fit-sample", type=int, default=0, help="fit on the first k people (0: all)"
    )
    parser.add_argument("--reset-database", action="store_true")
    parser.add_argument("--stability-size", type=int, default=100_000)
    parser.add_argument("--stability-new", type=float, default=0.01)
    parser.add_argument("--worker", choices=list(PARTS), help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def worker_argv(args, part: str, out: Path) -> list[str]:
    argv = [PYTHON, str(Path(__file__).resolve()), "--worker", part, "--worker-out", str(out)]
    if args.no_cprofile:
        argv.append("--no-cprofile")
    for name in (
        "sizes",
        "max_projected_minutes",
        "timeout_minutes",
        "data_dir",
        "profile_size",
        "people",
        "probes",
        "warmup",
        "fit_sample",
        "stability_size",
        "stability_new",
    ):
        value = getattr(args, name)
        flag = "--" + name.replace("_", "-")
        argv += [flag, *map(str, value)] if isinstance(value, list) else [flag, str(value)]
    return argv


def budgets(report: dict) -> list[dict]:
    checks = []
    batch = report["parts"].get("batch") or {}
    run = batch.get("budget_run")
    if run and not run.get("skipped") and run.get("returncode") == 0:
        checks.append(("batch 1M: seconds", run["seconds"], BATCH_BUDGET_SECONDS, "measured"))
        checks.append(("batch 1M: peak MB", run["peak_mb"], BATCH_BUDGET_MB, "measured"))
    elif batch.get("runs"):
        projected = (run or {}).get("projected_seconds") or batch.get("projected_seconds_1m")
        if run and run.get("timed_out"):
            checks.append(("batch 1M: seconds", run["seconds"], BATCH_BUDGET_SECONDS, "timed out"))
        elif projected:
            checks.append(("batch 1M: seconds", projected, BATCH_BUDGET_SECONDS, "projected"))
    incremental = report["parts"].get("incremental") or {}
    for stage in incremental.get("stages", []):
        kind = "measured" if stage["people"] >= MATCH_BUDGET_PEOPLE else "smaller N"
        label = f"person_match vs {stage['people']:,}"
        checks.append((f"{label}: median ms", stage["median_ms"], MATCH_MEDIAN_MS, kind))
        checks.append((f"{label}: p95 ms", stage["p95_ms"], MATCH_P95_MS, kind))
    stability = report["parts"].get("stability")
    if stability and "changed_share" in stability:
        checks.append(
            ("stability: share changed", stability["changed_share"], STABILITY_BUDGET, "measured")
        )
    return [
        {"figure": f, "value": v, "budget": b, "basis": basis, "pass": v <= b}
        for f, v, b, basis in checks
    ]


def main() -> int:
    args = parse_args()
    if args.worker:
        if args.worker == "incremental":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        result = PARTS[args.worker](args)
        Path(args.worker_out).write_text(json.dumps(result, indent=2, default=str))
        return 0
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_before": load_average(),
        "arguments": {k: v for k, v in vars(args).items() if not k.startswith("worker")},
        "parts": {},
    }
    log(f"load average {report['load_average_before']} on {os.cpu_count()} CPUs")
    for part in args.parts:
        env = dict(os.environ)
        if part == "incremental":
            sys.path.insert(0, str(ROOT / "bench"))
            from common import django_env

            url = os.environ.get("BENCH_DEDUPE_DATABASE_URL") or DEFAULT_DATABASE_URL
            prepare_database(url, args.reset_database)
            env = django_env(url)
        out = RESULTS_DIR / f".dedupe-{part}.json"
        out.unlink(missing_ok=True)
        measured = measured_run(worker_argv(args, part, out), env=env)
        if measured["returncode"] != 0 or not out.exists():
            log(f"{part}: failed ({measured})")
            report["parts"][part] = {"error": measured}
            continue
        report["parts"][part] = json.loads(out.read_text())
        report["parts"][part]["process"] = measured
        out.unlink()
    report["load_average_after"] = load_average()
    report["budgets"] = budgets(report)
    print("\nBudgets:")
    for check in report["budgets"]:
        verdict = "PASS" if check["pass"] else "FAIL"
        print(
            f"  {verdict}  {check['figure']:40} {check['value']:>12,.4g}  (budget <="
            f" {check['budget']:,}; {check['basis']})"
        )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (
        RESULTS_DIR / f"dedupe-speed-{stamp}.json",
        RESULTS_DIR / "dedupe-speed-latest.json",
    ):
        path.write_text(json.dumps(report, indent=2, default=str))
    log(f"written to bench/results/dedupe-speed-{stamp}.json")
    return 0 if all(c["pass"] for c in report["budgets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
