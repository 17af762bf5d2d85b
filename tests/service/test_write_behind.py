"""Write-behind scan recording: counts stay right, and a graceful stop writes every scan."""

from __future__ import annotations

import csv
import io
import threading
import urllib.request
from typing import Any, Callable

from sqlalchemy import func, select

from verify_service.data import scan_buffer
from verify_service.db import session
from verify_service.models import Label, Scan


def _codes(holder: Any, order: Callable[..., Any], client: Any, n: int) -> list[str]:
    b = order(holder, n).json
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    return [row["url"] for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))]


def _stored(run: Callable[..., Any]) -> tuple[int, int]:
    return run(lambda: (session().scalar(select(func.count()).select_from(Scan)),
                        session().scalar(select(func.coalesce(func.sum(Label.scan_count), 0)))))


def test_counts_include_queued_scans(app: Any, holder: Any, order: Callable[..., Any], client: Any,
                                     run: Callable[..., Any]) -> None:
    url = _codes(holder, order, client, 1)[0]
    app.config["SCAN_WRITE_BEHIND_MS"] = 60_000  # nothing is written until we flush
    try:
        counts = [client.get("/api/v1/verify", query_string={"code": url}).json["scans"]["count"] for _ in range(3)]
        assert counts == [1, 2, 3]
        assert _stored(run) == (0, 0)
        scan_buffer.flush_all()
        assert _stored(run) == (3, 3)
        v = client.get("/api/v1/verify", query_string={"code": url}).json
        assert v["scans"]["count"] == 4 and v["verdict"] == "authentic"
        scan_buffer.flush_all()
        assert _stored(run) == (4, 4)
    finally:
        scan_buffer.close_all()


def test_graceful_stop_writes_every_queued_scan(app: Any, holder: Any, order: Callable[..., Any], client: Any,
                                                run: Callable[..., Any], database_url: str,
                                                app_config: dict[str, Any]) -> None:
    from tests.e2e.conftest import start_gunicorn, stop

    urls = _codes(holder, order, client, 40)
    server = start_gunicorn(database_url, app_config, workers=2, extra_env={"SCAN_WRITE_BEHIND_MS": "200"})
    try:
        def hit(chunk: list[str]) -> None:
            for u in chunk:
                with urllib.request.urlopen(server.url + "/api/v1/verify?code=" + u.split("/L/")[1], timeout=30) as r:
                    assert r.status == 200

        threads = [threading.Thread(target=hit, args=(urls[i::4] * 3,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop(server)
    assert _stored(run) == (120, 120)
