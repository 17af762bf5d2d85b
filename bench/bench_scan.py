"""Scan verification throughput and latency against a bare Flask route, side by side.

    python bench/bench_scan.py --quick                  # small database, short runs (smoke)
    python bench/bench_scan.py --db both                # 1,000,000 labels, 10,000 certificates
    python bench/bench_scan.py --db sqlite --parts      # also what the parts of a scan cost
    python bench/bench_scan.py --db postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_scan

Builds a realistic registry (bulk inserts into the schema made by the migrations; one signing
key; batches are serial ranges, so a million labels are a few thousand rows), then serves
``/api/v1/verify`` with the repository's gunicorn.conf.py and, under the same configuration,
the bare route in ``bench/hello_app.py``. Both are driven by Debian's ``wrk`` with
``bench/scan_load.lua`` rotating over the same list of distinct genuine label codes (≥ 100,000
in a full run, so no cache hides the per-scan work).

Both servers run at once, and the load alternates between them: ``--rounds`` rounds of one
hello run and one verify run back to back (order alternating), each verify run going on with
codes not yet scanned. Shared machines drift by tens of percent over a minute, so the ratio
is taken within each round and the median over rounds is reported, with the range.

Targets (DESIGN.md §8): verify ≥ 0.6 × hello throughput; verify p99 < 50 ms at 32 connections;
every scan recorded (scan rows written == requests served, checked in every round).

A built database is reused when its sizes match (the SQLite file name carries the sizes; the
PostgreSQL database is checked by counting). ``--rebuild`` forces a new one, ``--drop`` drops the
PostgreSQL database at the end. Scan history (and alerts) are cleared before each database's
rounds so that runs are comparable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import label_gen  # noqa: E402
from sqlalchemy import Engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from verify_service import migrate  # noqa: E402
from verify_service.data.labels import FIRST_SERIAL  # noqa: E402
from verify_service.db import make_engine  # noqa: E402
from verify_service.domain.identifiers import make_uscc  # noqa: E402
from verify_service.models import Base  # noqa: E402

RESULTS = REPO / "bench" / "results"
LUA = REPO / "bench" / "scan_load.lua"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PASSPHRASE = "bench passphrase"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_scan"
TARGET_RATIO = 0.6
TARGET_P99_MS = 50.0
#: bench/scan_parts.py: the signature alone, everything before the verdict's signals, then the
#: whole scan API but the scan's write
PARTS = ("signature", "read", "unrecorded")
#: Registry rows are dated before any real "today" the benchmark runs on.
CREATED = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.timezone.utc)
CHUNK = 5000

PRODUCTS = [("五常大米", "03", "稻香牌"), ("赣南脐橙", "06", "赣南红"), ("盘锦大米", "03", None),
            ("西湖龙井", "11", "狮峰"), ("阳澄湖大闸蟹", "24", None), ("有机小米", "03", "沁州黄"),
            ("苍溪红心猕猴桃", "06", None), ("宁夏枸杞", "10", "百瑞源"), ("库尔勒香梨", "06", None),
            ("绿色鲜鸡蛋", "20", "德青源")]
COUNTIES = ["230184", "360782", "211122", "330106", "320583", "140431", "510824", "640105", "652801", "110115"]


# ------------------------------------------------------------------ building the database

def _chunks(rows: list[dict[str, Any]]) -> Any:
    for i in range(0, len(rows), CHUNK):
        yield rows[i:i + CHUNK]


def _insert(engine: Engine, table: str, rows: list[dict[str, Any]]) -> None:
    t = Base.metadata.tables[table]
    with engine.begin() as conn:
        for chunk in _chunks(rows):
            conn.execute(insert(t), chunk)
    print(f"  {table:<28} {len(rows):>9,} rows", flush=True)


def build_database(url: str, labels: int, certificates: int) -> None:
    """Create the schema with the migrations and bulk-insert a registry with ``labels`` issued."""
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url)
    rng = random.Random(20260615)

    record = label_gen.generate_key_record(PASSPHRASE, [], now=CREATED - dt.timedelta(days=30))
    d = record.to_dict()
    _insert(engine, "signing_keys", [{
        "key_id": record.key_id, "algorithm": record.algorithm, "public_key": d["public_key"],
        "encrypted_private_key": d["encrypted_private_key"], "status": record.status.value,
        "created_at": record.created_at, "valid_from": record.valid_from, "valid_to": record.valid_to,
        "revoked_at": record.revoked_at}])

    n_enterprises = max(1, certificates // 2)
    enterprises = []
    for i in range(1, n_enterprises + 1):
        county = COUNTIES[i % len(COUNTIES)]
        enterprises.append({
            "id": i, "uscc": make_uscc("1", county, f"{i:08d}"), "name": f"示范农业有限公司{i:05d}",
            "county_code": county, "gf_code": f"GF{county}{i:06d}", "address": f"{county} 农业园区 {i} 号",
            "created_at": CREATED, "updated_at": CREATED})
    _insert(engine, "enterprises", enterprises)

    certs, products, events = [], [], []
    for i in range(1, certificates + 1):
        kind = i % 20
        programme = "gi" if kind == 0 else "organic" if kind < 4 else "green_food"
        valid_from = dt.date(2024 + i % 2, 1 + i % 12, 1)
        status = "suspended" if i % 97 == 0 else "valid"
        certs.append({
            "id": i, "number": f"LB-{(i % 45) + 1:02d}-{i:010d}A", "programme": programme,
            "enterprise_id": (i - 1) % n_enterprises + 1, "grade": "A" if programme == "green_food" else None,
            "issuer": "中国绿色食品发展中心", "valid_from": valid_from,
            "valid_to": None if programme == "gi" else dt.date(valid_from.year + 3, valid_from.month, 1) - dt.timedelta(days=1),
            "status": status, "status_changed_at": CREATED, "created_at": CREATED, "updated_at": CREATED})
        name, cls, mark = PRODUCTS[i % len(PRODUCTS)]
        products.append({"id": i, "certificate_id": i, "name": name, "product_class": cls, "trademark": mark,
                         "approved_output": 500, "output_unit": "吨", "created_at": CREATED})
        if status != "valid":
            events.append({"certificate_id": i, "action": "suspend", "from_status": "valid", "to_status": status,
                           "reason": "年度抽检不合格", "actor": "bench", "valid_to": None,
                           "at": CREATED + dt.timedelta(days=100)})
    _insert(engine, "certificates", certs)
    _insert(engine, "products", products)
    _insert(engine, "certificate_status_events", events)

    # Two batches per certificate, of uneven sizes that add up to ``labels``.
    n_batches = certificates * 2
    sizes = [labels // n_batches] * n_batches
    for i in range(labels - sum(sizes)):
        sizes[i] += 1
    rng.shuffle(sizes)
    batches, serial = [], FIRST_SERIAL
    for b, quantity in enumerate(sizes, start=1):
        cert = certs[(b - 1) // 2]
        batches.append({
            "id": b, "certificate_id": cert["id"], "product_id": cert["id"], "enterprise_id": cert["enterprise_id"],
            "key_id": record.key_id, "quantity": quantity, "first_serial": serial,
            "last_serial": serial + quantity - 1, "pins": False, "label_format": "round25", "year": 2025,
            "created_by": "bench", "created_at": CREATED + dt.timedelta(minutes=b)})
        serial += quantity
    _insert(engine, "label_batches", batches)
    _insert(engine, "serial_counters", [{"id": 1, "next_serial": serial}])

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("enterprises", "certificates", "products", "label_batches", "certificate_status_events"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)


def database_sizes(url: str) -> tuple[int, int] | None:
    """(labels issued, certificates) of an existing benchmark database, or None."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t = Base.metadata.tables
            labels = conn.scalar(select(func.coalesce(func.sum(t["label_batches"].c.quantity), 0)))
            certs = conn.scalar(select(func.count()).select_from(t["certificates"]))
            keys = conn.scalar(select(func.count()).select_from(t["signing_keys"]))
            return (int(labels), int(certs)) if keys == 1 else None
    except Exception:  # no schema yet
        return None
    finally:
        engine.dispose()


def prepare_postgresql(url: str, labels: int, certificates: int, rebuild: bool) -> None:
    u = make_url(url)
    admin = make_engine(u.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database})
        if exists and (rebuild or database_sizes(url) != (labels, certificates)):
            print(f"dropping database {u.database} (sizes differ or --rebuild)", flush=True)
            conn.execute(text(f'DROP DATABASE "{u.database}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    if database_sizes(url) == (labels, certificates):
        print(f"reusing PostgreSQL database {u.database}", flush=True)
        return
    print(f"building PostgreSQL database {u.database}: {labels:,} labels, {certificates:,} certificates", flush=True)
    build_database(url, labels, certificates)


def drop_postgresql(url: str) -> None:
    u = make_url(url)
    admin = make_engine(u.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    admin.dispose()


def prepare_sqlite(labels: int, certificates: int, rebuild: bool) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"scan-db-{labels}-labels-{certificates}-certs.sqlite3"
    if path.exists() and not rebuild and database_sizes(f"sqlite:///{path}") == (labels, certificates):
        print(f"reusing SQLite database {path.name}", flush=True)
        return f"sqlite:///{path}"
    print(f"building SQLite database {path.name}: {labels:,} labels, {certificates:,} certificates", flush=True)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    build_database(f"sqlite:///{tmp}", labels, certificates)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(tmp, path)  # only a complete database gets the cache name
    return f"sqlite:///{path}"


# ------------------------------------------------------------------ load

def genuine_codes(url: str, n: int) -> list[str]:
    """``n`` distinct genuine codes spread over every batch, signed with the database's key."""
    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(Base.metadata.tables["signing_keys"])).one()
        first, last = conn.execute(text("SELECT min(first_serial), max(last_serial) FROM label_batches")).one()
    engine.dispose()
    record = label_gen.KeyRecord.from_dict({
        "key_id": row.key_id, "algorithm": row.algorithm, "public_key": row.public_key,
        "encrypted_private_key": row.encrypted_private_key, "status": row.status,
        "created_at": row.created_at.isoformat(), "valid_from": row.valid_from.isoformat(),
        "valid_to": None, "revoked_at": None})
    signer = label_gen.KeyRing([record], PASSPHRASE).signer_for(record.key_id)
    serials = random.Random(7).sample(range(first, last + 1), min(n, last - first + 1))
    return [signer.sign(s) for s in serials]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(module: str, database_url: str, ready_path: str, workers: int | None,
                 threads: int | None, **extra_env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "LABEL_KEY_PASSPHRASE": PASSPHRASE,
           "ACCESS_LOG": "", "LOG_LEVEL": "WARNING", **extra_env}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads:
        env["THREADS"] = str(threads)
    proc = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", module],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn {module} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(base + ready_path, timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"gunicorn {module} did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_wrk(base: str, paths_file: Path, duration: float, connections: int, threads: int,
            start: int = 0) -> dict[str, Any]:
    """One wrk run; each thread walks the paths from its own offset, moved on by ``start``."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "-s", str(LUA),
           base, "--", str(paths_file), str(threads), str(start)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line[len("RESULT "):])
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def count_scans(url: str) -> tuple[int, dict[str, int]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        by_verdict = dict(conn.execute(text("SELECT verdict, count(*) FROM scans GROUP BY verdict")).all())
    engine.dispose()
    return sum(by_verdict.values()), {k: int(v) for k, v in by_verdict.items()}


def clear_scan_history(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        # Alerts too: a label with an open alert answers suspected_clone in every later run.
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE scans, labels, alerts"))
        else:
            for table in ("scans", "labels", "alerts"):
                conn.execute(text(f"DELETE FROM {table}"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE scans"))
            conn.execute(text("VACUUM ANALYZE labels"))
    engine.dispose()


def measure(name: str, url: str, codes: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Both servers up at once; ``args.rounds`` rounds of one hello run and one verify run
    back to back (the order alternating), each round continuing over codes not yet scanned."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        verify_paths, hello_paths = workdir / "verify.txt", workdir / "hello.txt"
        verify_paths.write_text("".join(f"/api/v1/verify?code={c}\n" for c in codes))
        hello_paths.write_text("".join(f"/hello?code={c}\n" for c in codes))
        clear_scan_history(url)
        hello_proc, hello_base = start_server("bench.hello_app:app", url, "/hello", args.workers, args.threads)
        servers.append(hello_proc)
        verify_proc, verify_base = start_server("wsgi:app", url, "/healthz", args.workers, args.threads)
        servers.append(verify_proc)
        targets = {"hello": (hello_base, hello_paths), "verify": (verify_base, verify_paths)}
        if args.parts:  # what a scan costs before the database, and before it is recorded
            parts_paths = workdir / "parts.txt"
            parts_paths.write_text("".join(f"/parts?code={c}\n" for c in codes))
            for part in PARTS:
                proc, base = start_server("bench.scan_parts:app", url, "/parts?code=" + codes[0], args.workers,
                                          args.threads, SCAN_PART=part)
                servers.append(proc)
                targets[part] = (base, parts_paths)
                run_wrk(base, parts_paths, args.warmup, args.connections, args.wrk_threads)
        run_wrk(hello_base, hello_paths, args.warmup, args.connections, args.wrk_threads)
        # codes scanned so far: each round goes on with labels not yet scanned
        offset = run_wrk(verify_base, verify_paths, args.warmup, args.connections, args.wrk_threads)["requests"]
        time.sleep(0.5)
        rounds = []
        for i in range(args.rounds):
            found: dict[str, Any] = {}
            for target in (list(targets) if i % 2 == 0 else list(reversed(targets))):
                base, paths = targets[target]
                if target == "verify":
                    before, _ = count_scans(url)
                found[target] = run_wrk(base, paths, args.duration, args.connections, args.wrk_threads,
                                        start=offset // args.wrk_threads)
                if target == "verify":
                    time.sleep(1.0)  # let requests in flight when wrk stopped finish
                    found["scans_written"] = count_scans(url)[0] - before
                    offset += found["verify"]["requests"]
            rounds.append(found)
        return {"rounds": rounds, "verdicts_total": count_scans(url)[1]}
    finally:
        for proc in servers:
            stop_server(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def report(name: str, r: dict[str, Any], args: argparse.Namespace, n_codes: int) -> bool:
    print(f"\n== {name}: {args.labels:,} labels, {args.certificates:,} certificates, {n_codes:,} distinct codes; "
          f"wrk -t{args.wrk_threads} -c{args.connections}, {args.rounds} rounds of {args.duration:g} s each")
    ratios, p99s, ok_scans = [], [], True
    for i, rnd in enumerate(r["rounds"], 1):
        h, v = rnd["hello"], rnd["verify"]
        ratio, p99 = v["rate"] / h["rate"], v["latency_us"]["p99"] / 1000
        ratios.append(ratio)
        p99s.append(p99)
        socket_errors = sum(v["errors"][k] for k in ("connect", "read", "write", "timeout"))
        recorded = v["errors"]["status"] == 0 and rnd["scans_written"] >= v["requests"]
        ok_scans &= recorded
        print(f"  round {i}: hello {h['rate']:>7,.0f} req/s (p99 {h['latency_us']['p99'] / 1000:5.1f} ms)"
              f"  verify {v['rate']:>7,.0f} req/s (p50 {v['latency_us']['p50'] / 1000:5.1f}"
              f"  p90 {v['latency_us']['p90'] / 1000:5.1f}  p99 {p99:5.1f}  max {v['latency_us']['max'] / 1000:6.1f} ms)"
              f"  ratio {ratio:.2f}  scans {rnd['scans_written']:,}/{v['requests']:,}"
              f"{'' if not socket_errors else f'  socket errors {socket_errors}'}")
    for part in PARTS:
        if part in r["rounds"][0]:
            shares = [rnd[part]["rate"] / rnd["hello"]["rate"] for rnd in r["rounds"]]
            print(f"  part '{part}': median {statistics.median(shares):.2f} x hello "
                  f"(rounds {min(shares):.2f}-{max(shares):.2f}; see bench/scan_parts.py)")
    ratio, p99 = statistics.median(ratios), statistics.median(p99s)
    ok_ratio, ok_p99 = ratio >= TARGET_RATIO, p99 < TARGET_P99_MS
    print(f"  ratio verify/hello   median {ratio:.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f}; target >= {TARGET_RATIO})"
          f"  {'PASS' if ok_ratio else 'MISS'}")
    print(f"  verify p99           median {p99:.1f} ms (rounds {min(p99s):.1f}-{max(p99s):.1f}; target < {TARGET_P99_MS:g} ms)"
          f"  {'PASS' if ok_p99 else 'MISS'}")
    print(f"  scans recorded       every response's scan committed in every round, no non-2xx  "
          f"{'PASS' if ok_scans else 'MISS'}")
    print(f"  verdicts (warm-up included) {r['verdicts_total']}")
    return ok_ratio and ok_p99 and ok_scans


def code_version() -> str:
    """The commit measured, and whether the working tree had uncommitted changes to the service."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "verify_service", "label_gen", "wsgi.py",
                                "gunicorn.conf.py"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" + uncommitted changes" if dirty else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--labels", type=int, default=1_000_000)
    parser.add_argument("--certificates", type=int, default=10_000)
    parser.add_argument("--codes", type=int, default=100_000, help="distinct genuine codes the load rotates over")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of each measured wrk run")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of one hello and one verify run")
    parser.add_argument("--parts", action="store_true",
                        help="also price the parts of a scan (bench/scan_parts.py) in every round")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of an unmeasured wrk run first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, help="gunicorn workers for both targets (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker for both targets")
    parser.add_argument("--quick", action="store_true", help="small database, short runs: a smoke test")
    parser.add_argument("--rebuild", action="store_true", help="build the database even if a matching one exists")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database at the end")
    args = parser.parse_args()
    if args.quick:
        args.labels, args.certificates, args.codes = 20_000, 200, 5_000
        args.duration, args.warmup, args.rounds = 3.0, 1.0, 2
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if args.certificates < 1 or args.labels < 2 * args.certificates:
        raise SystemExit("need at least two labels per certificate (two batches each)")

    targets = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"code under test: {code_version()}", flush=True)
    all_ok, summary = True, {}
    for name in targets:
        if name == "sqlite":
            url = prepare_sqlite(args.labels, args.certificates, args.rebuild)
        else:
            prepare_postgresql(args.pg_url, args.labels, args.certificates, args.rebuild)
            url = args.pg_url
        codes = genuine_codes(url, args.codes)
        results = measure(name, url, codes, args)
        all_ok &= report(name, results, args, len(codes))
        summary[name] = results
        if name == "postgresql" and args.drop:
            drop_postgresql(url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"scan-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps({"code": code_version(), "args": vars(args), "results": summary}, indent=2))
    print(f"\nresults written to {out.relative_to(REPO)}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
