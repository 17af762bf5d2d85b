"""``push worker|status|replay|reconcile|simulator|unregistered``: the traceability push."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from verify_service.cli import unit_of_work


@click.group("push", help="Push records to the national traceability platform.", cls=AppGroup)
def push_group() -> None:
    pass


def _client() -> Any:
    from verify_service.push.platform import PlatformClient

    cfg = current_app.config
    if not cfg["PLATFORM_SECRET"]:
        raise click.ClickException("PLATFORM_SECRET is not set")
    return PlatformClient(cfg["PLATFORM_URL"], cfg["PLATFORM_SECRET"], timeout=float(cfg["PUSH_TIMEOUT_SECONDS"]))


@push_group.command("worker", help="Send due outbox records until stopped (SIGTERM/SIGINT finish the current batch).")
@click.option("--worker-id", default=None, help="name in logs and leases (default: host:pid:random)")
@click.option("--until-idle", is_flag=True, help="stop once nothing is due (for scripts and tests)")
@click.option("--metrics-port", type=int, default=None, help="serve this worker's Prometheus counters on this port")
def worker(worker_id: str | None, until_idle: bool, metrics_port: int | None) -> None:
    from verify_service.push.worker import Worker, WorkerSettings, install_signal_handlers

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = _client()
    w = Worker(app, client, WorkerSettings.from_config(app.config), worker_id=worker_id)
    install_signal_handlers(w, (signal.SIGTERM, signal.SIGINT))
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    try:
        w.run(until_idle=until_idle)
    finally:
        client.close()


@push_group.command("status", help="Backlog, oldest unsent record, retrying and parked records.")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def status(as_json: bool) -> None:
    from verify_service.push import ops

    s = ops.status()
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
        return
    age = s["oldest_pending_age_seconds"]
    click.echo(f"backlog      {s['backlog']}  (in flight {s['in_flight']}, retrying {s['retrying']})")
    click.echo(f"oldest       {'-' if age is None else f'{age:.1f} s'}")
    click.echo(f"sent         {s['counts']['sent']}")
    click.echo(f"parked       {s['parked']}")
    click.echo(f"unregistered {s['unregistered_enterprises']} certified enterprises without an entity code")
    for kind, n in sorted(s["backlog_by_kind"].items()):
        click.echo(f"  pending {kind}: {n}")
    for r in s["parked_records"]:
        click.echo(f"  parked #{r['id']} {r['kind']} {r['key']} after {r['attempts']} tries: {r['last_error']}")


def _parse_time(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time") from None
    if t.tzinfo is None:
        from verify_service.clock import CHINA_TZ

        t = t.replace(tzinfo=CHINA_TZ)  # a bare date or time is China time, like the registry's dates
    return t.astimezone(dt.timezone.utc)


@push_group.command("replay", help="Queue parked records again, or every record created in --since/--until.")
@click.option("--since", default=None, help="ISO 8601 time (China time when no offset): re-send records created from then")
@click.option("--until", default=None, help="ISO 8601 time: ... and before then")
@click.option("--kind", default=None, help="only records of this kind")
@unit_of_work
def replay(since: str | None, until: str | None, kind: str | None) -> None:
    from verify_service.push import ops

    start, end = _parse_time(since), _parse_time(until)
    n = ops.replay(parked_only=start is None and end is None, since=start, until=end, kind=kind)
    what = "parked records" if start is None and end is None else "records in the range"
    click.echo(f"queued {n} {what} again (same idempotency keys: the platform drops copies)")


@push_group.command("reconcile", help="Compare what was acknowledged with what the platform holds; exit 1 on a gap.")
@click.option("--since", default=None, help="only check records created from this ISO 8601 time")
@click.option("--stale-after", type=float, default=None, help="seconds a record may stay unsent (default PUSH_STALE_AFTER_SECONDS)")
def reconcile(since: str | None, stale_after: float | None) -> None:
    from verify_service.push import ops
    from verify_service.push.platform import PlatformUnavailable

    client = _client()
    limit = stale_after if stale_after is not None else float(current_app.config["PUSH_STALE_AFTER_SECONDS"])
    try:
        result = ops.reconcile(client.list_records(), stale_after=dt.timedelta(seconds=limit), since=_parse_time(since))
    except PlatformUnavailable as exc:
        raise click.ClickException(f"cannot list the platform's records: {exc}") from None
    finally:
        client.close()
    for line in result.lines():
        click.echo(line)
    click.echo(f"checked {result.checked_sent} acknowledged records against {result.platform_records} held by the platform: "
               f"{len(result.missing)} missing, {len(result.duplicated)} duplicated, {len(result.unknown)} unknown, "
               f"{len(result.stale)} pending too long or parked")
    if result.gaps:
        sys.exit(1)


@push_group.command("unregistered", help="Certified enterprises the platform has not given an entity code yet.")
@click.option("--enqueue", is_flag=True, help="queue a registration for those without one pending or sent")
@unit_of_work
def unregistered(enqueue: bool) -> None:
    from verify_service.push import ops

    rows = ops.unregistered(enqueue=enqueue)
    for r in rows:
        click.echo(f"{r['uscc']}  {r['name']}  registration: {r['registration']}{'  (queued now)' if r['queued'] else ''}")
    click.echo(f"{len(rows)} certified enterprises without an entity code")


@push_group.command("simulator", help="Run the platform simulator (an HTTP server with fault injection).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8930, show_default=True)
@click.option("--db", "db_path", default=":memory:", show_default=True, help="SQLite file to keep what it accepted")
@click.option("--secret", default=None, help="HMAC secret (default: PLATFORM_SECRET)")
@click.option("--replay-window", type=int, default=300, show_default=True, help="seconds a timestamp may be off")
@click.option("--error-rate", type=float, default=0.0, show_default=True, help="share of batches answered 503")
@click.option("--timeout-rate", type=float, default=0.0, show_default=True, help="share of batches stalled past --timeout-seconds")
@click.option("--timeout-seconds", type=float, default=15.0, show_default=True)
@click.option("--slow-ms", type=int, default=0, show_default=True, help="delay before every batch")
@click.option("--lost-ack-rate", type=float, default=0.0, show_default=True, help="share of batches stored, then answered 500 or cut off")
@click.option("--duplicate-rate", type=float, default=0.0, show_default=True, help="share of batches delivered twice")
@click.option("--seed", type=int, default=None, help="random seed of the fault injection")
def simulator(host: str, port: int, db_path: str, secret: str | None, replay_window: int, error_rate: float,
              timeout_rate: float, timeout_seconds: float, slow_ms: int, lost_ack_rate: float,
              duplicate_rate: float, seed: int | None) -> None:
    from verify_service.push.simulator import Faults, serve

    secret = secret or current_app.config["PLATFORM_SECRET"]
    if not secret:
        raise click.ClickException("give --secret or set PLATFORM_SECRET")
    if error_rate + timeout_rate + lost_ack_rate + duplicate_rate > 1:
        raise click.BadParameter("the fault rates add up to more than 1")
    faults = Faults(error_rate=error_rate, timeout_rate=timeout_rate, timeout_seconds=timeout_seconds,
                    slow_ms=slow_ms, lost_ack_rate=lost_ack_rate, duplicate_rate=duplicate_rate, seed=seed)
    server = serve(host, port, secret, db_path=db_path, faults=faults, replay_window=replay_window)

    def _stop(signum: int, _frame: Any) -> None:
        # shutdown() waits for serve_forever to return, so it must not run on its thread.
        import threading

        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"platform simulator listening on http://{host}:{server.server_address[1]}", err=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        click.echo("platform simulator stopped: " + json.dumps(server.store.summary()), err=True)

