"""Verdicts for every kind of scanned input, and scan recording."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from typing import Any, Callable

import label_gen
import pytest
from sqlalchemy import select

from verify_service.db import session
from verify_service.models import Scan


@pytest.fixture
def labels(holder: Any, order: Callable[..., Any], client: Any) -> list[dict[str, str]]:
    b = order(holder, 5).json
    r = client.get(f"/api/v1/enterprise/label-batches/{b['id']}/manifest.csv", headers=holder.headers)
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    for row in rows:
        row["batch_id"] = str(b["id"])
    return rows


def _verify(client: Any, code: str, **kw: Any) -> Any:
    r = client.get("/api/v1/verify", query_string={"code": code, **kw})
    assert r.status_code == 200, r.json
    return r.json


def test_authentic_shape(client: Any, labels: list[dict[str, str]], holder: Any) -> None:
    v = _verify(client, labels[0]["url"])
    assert set(v) == {"verdict", "serial", "reasons", "certificate", "product", "enterprise", "scans"}
    assert v["verdict"] == "authentic"
    assert v["serial"] == int(labels[0]["serial"])
    assert v["certificate"]["number"] == holder.number and v["certificate"]["status"] == "valid"
    assert v["product"]["name"] == "五常大米" and v["enterprise"]["uscc"] == holder.uscc
    assert [r["code"] for r in v["reasons"]] == ["genuine", "certificate_valid"]
    assert v["scans"]["count"] == 1
    again = _verify(client, labels[0]["url"])
    assert again["scans"] == {"count": 2, "first_at": v["scans"]["first_at"]}


@pytest.mark.parametrize("variant", [
    lambda u: u.lower(),
    lambda u: "  " + u + " \n",
    lambda u: u + "/",
    lambda u: u.split("/L/")[1],
    lambda u: "https://gf.cn/l/" + u.split("/L/")[1],
    lambda u: "gf.cn/L/" + u.split("/L/")[1],
])
def test_scanner_variants_are_accepted(client: Any, labels: list[dict[str, str]], variant: Any) -> None:
    assert _verify(client, variant(labels[1]["url"]))["verdict"] == "authentic"


def test_scan_page_routes_accept_json(client: Any, labels: list[dict[str, str]]) -> None:
    code = labels[0]["url"].split("/L/")[1]
    for prefix in ("/L/", "/l/"):
        r = client.get(prefix + code, headers={"Accept": "application/json"})
        assert r.status_code == 200 and r.json["verdict"] == "authentic"
    r = client.get("/L/" + code)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "正品标签" in r.get_data(as_text=True)
    r = client.get("/L/" + code + "?lang=en")
    assert "Genuine label" in r.get_data(as_text=True)


@pytest.mark.parametrize("status,reason_code", [("suspended", "certificate_suspended"),
                                                 ("revoked", "certificate_revoked"),
                                                 ("cancelled", "certificate_cancelled")])
def test_certificate_invalid(client: Any, labels: list[dict[str, str]], holder: Any, admin_headers: dict[str, str],
                             clock: Any, status: str, reason_code: str) -> None:
    def change(to: str, why: str) -> None:
        r = client.post(f"/api/v1/admin/certificates/{holder.number}/status", json={"status": to, "reason": why},
                        headers=admin_headers)
        assert r.status_code == 200, r.json

    change("suspended", "待复查")
    clock.advance(days=1)
    change("valid", "复查合格")
    clock.advance(days=1, hours=3)
    change(status, "抽检不合格")  # the reason shows the latest change: when, and why
    clock.advance(days=5)
    v = _verify(client, labels[0]["url"])
    assert v["verdict"] == "certificate_invalid" and v["certificate"]["status"] == status
    assert [r["code"] for r in v["reasons"]] == [reason_code]
    message = v["reasons"][0]["message"]
    assert "（2026-06-17 15:00）" in message and holder.number in message
    assert ("：抽检不合格" in message) == (status != "cancelled") and "待复查" not in message


def test_certificate_expired_at_scan_time(client: Any, labels: list[dict[str, str]], clock: Any) -> None:
    clock.set_date(dt.date(2028, 1, 1))
    v = _verify(client, labels[0]["url"], lang="en")
    assert v["verdict"] == "certificate_invalid" and v["certificate"]["status"] == "expired"
    assert v["reasons"][0]["code"] == "certificate_expired" and "expired on 2027-12-31" in v["reasons"][0]["message"]


def test_void_label_and_batch(client: Any, labels: list[dict[str, str]], make_token: Callable[..., str],
                              holder: Any, admin_headers: dict[str, str]) -> None:
    reg = {"Authorization": "Bearer " + make_token("regulator")}
    serial = labels[0]["serial"]
    assert client.post(f"/api/v1/regulator/labels/{serial}/void", json={"reason": "被盗"}, headers=reg).status_code == 200
    v = _verify(client, labels[0]["url"])
    assert v["verdict"] == "label_void" and v["reasons"][0]["code"] == "label_voided"
    assert _verify(client, labels[1]["url"])["verdict"] == "authentic"
    # a void label on a revoked certificate is still label_void (the more serious verdict)
    client.post(f"/api/v1/admin/certificates/{holder.number}/status", json={"status": "revoked", "reason": "x"},
                headers=admin_headers)
    v = _verify(client, labels[0]["url"])
    assert v["verdict"] == "label_void" and [r["code"] for r in v["reasons"]] == ["label_voided", "certificate_revoked"]
    client.post(f"/api/v1/regulator/label-batches/{labels[1]['batch_id']}/void", json={"reason": "召回"}, headers=reg)
    assert _verify(client, labels[1]["url"])["verdict"] == "label_void"
    assert client.post("/api/v1/regulator/labels/123/void", json={"reason": "x"}, headers=reg).status_code == 404


def test_counterfeits(client: Any, labels: list[dict[str, str]], app: Any) -> None:
    url = labels[0]["url"]
    code = url.split("/L/")[1]
    # another issuer's key ring signing the same serial
    other = label_gen.KeyRing([label_gen.generate_key_record("x", [0])], "x")
    forged = other.sign(int(labels[0]["serial"]))
    v = _verify(client, forged)
    assert v["verdict"] == "counterfeit" and v["reasons"][0]["code"] in ("bad_signature", "unknown_key")
    # a flipped digit
    flipped = code[:-1] + ("1" if code[-1] != "1" else "2")
    assert _verify(client, flipped)["verdict"] in ("counterfeit", "malformed")


def test_never_issued_serial(client: Any, labels: list[dict[str, str]], run: Callable[..., Any]) -> None:
    from verify_service.services import keys

    ring = run(keys.signing_ring)
    v = _verify(client, ring.sign(999_999_999))
    assert v["verdict"] == "counterfeit" and v["reasons"][0]["code"] == "never_issued"
    assert v["certificate"] is None


def test_revoked_key(client: Any, labels: list[dict[str, str]], run: Callable[..., Any], clock: Any) -> None:
    from verify_service.services import keys

    clock.advance(hours=1)
    record = run(keys.signing_ring).records[0]
    run(keys.revoke, record.kid, "test", "admin")
    keys.clear_cache()
    # issued before the revocation: still genuine
    assert _verify(client, labels[0]["url"])["verdict"] == "authentic"
    # a code for a serial no earlier batch holds, signed with the revoked key: counterfeit
    forged = label_gen.Signer(record.key_id, run(keys.signing_ring)._private_key(record)).sign(77_777_777)
    v = _verify(client, forged)
    assert v["verdict"] == "counterfeit" and v["reasons"][0]["code"] == "revoked_key"


@pytest.mark.parametrize("junk", ["", "hello", "https://example.com/", "L/abc", "0" * 169, "9" * 400, "😀" * 10,
                                  "https://gf.cn/L/" + "1" * 168, "x" * 5000, "%00", "<script>"])
def test_junk_is_malformed(client: Any, junk: str) -> None:
    if not junk:
        r = client.get("/api/v1/verify", query_string={"code": junk})
        assert r.status_code == 422
        return
    v = _verify(client, junk)
    assert v["verdict"] == "malformed" and v["serial"] is None and v["certificate"] is None


def test_junk_on_scan_page(client: Any) -> None:
    r = client.get("/L/not-a-code")
    assert r.status_code == 200 and "无法识别" in r.get_data(as_text=True)


def test_scans_store_coarse_client_only(client: Any, labels: list[dict[str, str]], run: Callable[..., Any]) -> None:
    client.get("/api/v1/verify", query_string={"code": labels[0]["url"], "lat": "45.12345", "lon": "126.98765"},
               headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0"},
               environ_base={"REMOTE_ADDR": "203.0.113.77"})
    scan = run(lambda: session().scalars(select(Scan)).one())
    assert scan.network == "203.0.113.0/24" and scan.user_agent == "wechat"
    assert (float(scan.latitude), float(scan.longitude)) == (45.1, 127.0)
    assert scan.channel == "api" and scan.verdict == "authentic"


def test_trusted_proxy_setting(app: Any, labels: list[dict[str, str]], run: Callable[..., Any], app_config: dict[str, Any]) -> None:
    from verify_service import create_app

    proxied = create_app({**app_config, "TRUSTED_PROXIES": 1})
    proxied.test_client().get("/api/v1/verify", query_string={"code": labels[0]["url"]},
                              headers={"X-Forwarded-For": "198.51.100.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    app.test_client().get("/api/v1/verify", query_string={"code": labels[0]["url"]},
                          headers={"X-Forwarded-For": "198.51.100.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    networks = run(lambda: [s.network for s in session().scalars(select(Scan).order_by(Scan.id))])
    proxied.extensions["db"].engine.dispose()
    assert networks == ["198.51.100.0/24", "127.0.0.0/24"]


def test_regulator_label_detail(client: Any, labels: list[dict[str, str]], make_token: Callable[..., str]) -> None:
    _verify(client, labels[2]["url"])
    reg = {"Authorization": "Bearer " + make_token("regulator")}
    r = client.get(f"/api/v1/regulator/labels/{labels[2]['serial']}", headers=reg)
    assert r.status_code == 200 and r.json["scan_count"] == 1 and len(r.json["scans"]) == 1
    assert client.get("/api/v1/regulator/labels/5", headers=reg).status_code == 404


def test_well_known_keys(client: Any, labels: list[dict[str, str]]) -> None:
    r = client.get("/.well-known/label-keys.json")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.json["keys"][0]["alg"] == "Ed25519"
    assert "PRIVATE" not in body and "encrypted" not in body
    ring = label_gen.KeyRing(label_gen.records_from_public_key_set(r.json))
    assert ring.verify(labels[0]["url"]).serial == int(labels[0]["serial"])


def test_home_page(client: Any) -> None:
    zh = client.get("/").get_data(as_text=True)
    assert "扫描产品标签上的二维码" in zh and 'href="/check?lang=zh"' in zh
    assert "Scan the QR code" in client.get("/?lang=en").get_data(as_text=True)


def test_scan_read_survives_a_dropped_connection(client: Any, labels: list[dict[str, str]], app: Any) -> None:
    from verify_service.data import scan_path

    assert _verify(client, labels[0]["url"])["verdict"] == "authentic"
    with app.app_context():
        stale = scan_path._reader_cursor()
        scan_path._reader().close()  # as if the database restarted under it
    assert _verify(client, labels[0]["url"])["verdict"] == "authentic"
    with app.app_context():  # the retry made a new connection and a cursor on it
        assert scan_path._reader_cursor() is not stale
        assert scan_path._reader_cursor().connection is scan_path._reader()


def test_last_status_change_read_alike_in_and_out_of_a_transaction(client: Any, holder: Any, app: Any,
                                                                  admin_headers: dict[str, str], clock: Any) -> None:
    from verify_service.data import scan_path
    from sqlalchemy import delete

    from verify_service.db import commit as db_commit
    from verify_service.db import in_transaction, session
    from verify_service.models import Certificate, CertificateStatusEvent

    def both() -> list[Any]:
        with app.app_context():
            outside = scan_path.latest_status_event(certificate_id)
            session().execute(select(Certificate.id).limit(1))  # the unit of work has begun
            assert in_transaction()
            return [outside, scan_path.latest_status_event(certificate_id)]

    with app.app_context():
        certificate_id = session().scalar(select(Certificate.id).where(Certificate.number == holder.number))
    issued = scan_path.StatusEvent(clock.now(), "certificate issued")
    assert both() == [issued, issued]
    for status, why in (("suspended", "待复查"), ("revoked", "抽检不合格")):
        r = client.post(f"/api/v1/admin/certificates/{holder.number}/status", json={"status": status, "reason": why},
                        headers=admin_headers)
        assert r.status_code == 200
        clock.advance(hours=5)
    expected = scan_path.StatusEvent(clock.now() - dt.timedelta(hours=5), "抽检不合格")
    assert both() == [expected, expected]
    assert both()[0].at.utcoffset() == dt.timedelta(0)
    with app.app_context():  # a certificate without history (none is made without one)
        session().execute(delete(CertificateStatusEvent).where(CertificateStatusEvent.certificate_id == certificate_id))
        db_commit()
    assert both() == [None, None]


def test_postgresql_scan_reads_never_scan_a_table_whole(labels: list[dict[str, str]], app: Any,
                                                        database_url: str) -> None:
    """The scan path's reads are prepared while labels, alerts and scans are nearly empty; their
    kept plans must still look a label up by key once the tables hold millions of rows."""
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's prepared statements")
    from verify_service.data import scan_path

    serial, batch_id = int(labels[0]["serial"]), int(labels[0]["batch_id"])
    with app.app_context():
        conn = scan_path._reader()
        conn.execute("ANALYZE labels, alerts, scans")  # statistics of a new database: all empty
        since = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
        for _ in range(8):  # psycopg prepares a statement on its fifth run
            scan_path.live_state(batch_id, serial)
            scan_path.recent_scans(serial, since)
        conn.execute("SET plan_cache_mode = force_generic_plan")  # the plan a long-lived connection keeps
        try:
            plans = {}
            for like, args in (("%LEFT JOIN labels%", f"{serial}, {batch_id}"),
                               ("%FROM scans%", f"{serial}, '{since.isoformat()}', 300")):
                name = conn.execute("SELECT name FROM pg_prepared_statements WHERE statement LIKE %s",
                                    (like,)).fetchone()[0]
                plans[like] = "\n".join(r[0] for r in conn.execute(f"EXPLAIN EXECUTE {name}({args})"))
        finally:
            conn.execute("RESET plan_cache_mode")
    assert not any("Seq Scan" in plan for plan in plans.values()), plans


@pytest.mark.parametrize("preload", [True, False], ids=["all-batches-loaded", "one-by-one"])
def test_scan_shows_renamed_enterprise_after_display_ttl(client: Any, labels: list[dict[str, str]], holder: Any,
                                                         run: Callable[..., Any], order: Callable[..., Any],
                                                         monkeypatch: Any, preload: bool) -> None:
    """Names are cached per process; a rename shows within DISPLAY_TTL_SECONDS, and a batch
    issued after the cache was filled verifies at once."""
    from sqlalchemy import update

    from verify_service.data import scan_path
    from verify_service.models import Enterprise

    monkeypatch.setattr(scan_path, "PRELOAD_MAX_BATCHES", 100 if preload else 0)
    now = [1000.0]
    monkeypatch.setattr(scan_path.time, "monotonic", lambda: now[0])
    first = _verify(client, labels[0]["url"])["enterprise"]["name"]
    index = next(iter(scan_path._indexes.values()))
    assert (index.complete_at is not None) is preload

    run(lambda: session().execute(update(Enterprise).where(Enterprise.uscc == holder.uscc).values(name="新名称农业公司")))
    now[0] += scan_path.DISPLAY_TTL_SECONDS - 1
    assert _verify(client, labels[1]["url"])["enterprise"]["name"] == first  # still cached
    now[0] += 2
    if preload:  # the scan that finds the entries old starts their reload, and is answered from them
        gate, load_all = threading.Event(), scan_path._load_all

        def held_reload(ix: Any) -> None:  # the reload waits until that scan has its answer
            gate.wait(10)
            load_all(ix)

        monkeypatch.setattr(scan_path, "_load_all", held_reload)
        assert _verify(client, labels[2]["url"])["enterprise"]["name"] == first
        gate.set()
        index.reloader.join(timeout=10)
        monkeypatch.setattr(scan_path, "_load_all", load_all)
    assert _verify(client, labels[2]["url"])["enterprise"]["name"] == "新名称农业公司"

    later = order(holder, 2).json  # issued after the cache was filled: found by its own query
    r = client.get(f"/api/v1/enterprise/label-batches/{later['id']}/manifest.csv", headers=holder.headers)
    url = next(csv.DictReader(io.StringIO(r.get_data(as_text=True))))["url"]
    v = _verify(client, url)
    assert v["verdict"] == "authentic" and v["enterprise"]["name"] == "新名称农业公司"
    assert _verify(client, labels[3]["url"])["verdict"] == "authentic"
    if preload:  # a reload with nothing changed keeps what it built
        serial = int(labels[3]["serial"])
        built = index.find(serial)
        now[0] += scan_path.DISPLAY_TTL_SECONDS
        assert _verify(client, labels[4]["url"])["verdict"] == "authentic"
        index.reloader.join(timeout=10)
        assert index.complete_at == now[0] and index.find(serial) is built


def test_batch_index_readers_never_see_a_half_made_insert() -> None:
    """A scan reads the index without its lock while another thread adds a batch: the lists
    it searches and the batch it picks must come from one version of the index."""
    import dataclasses
    import sys
    import threading

    from verify_service.data import scan_path

    def batch(first: int) -> scan_path.BatchInfo:
        fields = {f.name: 0 for f in dataclasses.fields(scan_path.BatchInfo)}
        return scan_path.BatchInfo(**{**fields, "id": first, "first_serial": first, "last_serial": first + 9,
                                      "loaded_at": float("inf")})

    index = scan_path._Index()
    for first in range(1000, 100_000, 20):
        index.put(batch(first))
    wrong: list[tuple[int, Any]] = []
    stop = threading.Event()

    def scan() -> None:
        while not stop.is_set():
            for serial in range(99_985, 1000, -997):
                found = index.find(serial)
                if found is not None and not found.first_serial <= serial <= found.last_serial:
                    wrong.append((serial, found))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        reader = threading.Thread(target=scan)
        reader.start()
        for first in range(1010, 100_000, 20):  # fill every gap, each insert landing in front of the readers
            index.put(batch(first))
        stop.set()
        reader.join()
    finally:
        sys.setswitchinterval(interval)
    assert not wrong
    assert index.find(1015).first_serial == 1010 and index.find(100_005) is None


def test_failed_batch_reload_keeps_the_old_entries(client: Any, labels: list[dict[str, str]],
                                                   monkeypatch: Any) -> None:
    from verify_service.data import scan_path

    now = [1000.0]
    monkeypatch.setattr(scan_path.time, "monotonic", lambda: now[0])
    assert _verify(client, labels[0]["url"])["verdict"] == "authentic"
    index = next(iter(scan_path._indexes.values()))
    loaded = index.complete_at

    real = scan_path.read

    def broken(stmt: Any, *args: Any) -> Any:
        if stmt is scan_path._COUNT_BATCHES:  # the reload's first read
            raise RuntimeError("database gone")
        return real(stmt, *args)

    monkeypatch.setattr(scan_path, "read", broken)
    now[0] += scan_path.DISPLAY_TTL_SECONDS + 1
    assert _verify(client, labels[1]["url"])["verdict"] == "authentic"  # from the old entries
    index.reloader.join(timeout=10)
    assert index.complete_at == loaded and not index.reloading.locked()
    monkeypatch.setattr(scan_path, "read", real)
    assert _verify(client, labels[2]["url"])["verdict"] == "authentic"  # and the next scan tries again
    index.reloader.join(timeout=10)
    assert index.complete_at == now[0]


def test_warm_up_loads_what_the_first_scan_needs(app: Any, labels: list[dict[str, str]], tmp_path: Any,
                                                 caplog: Any) -> None:
    """gunicorn.conf.py warms each new worker: the batch cache is loaded before its first
    request; a database that is not ready leaves it to the first scan."""
    from verify_service import create_app
    from verify_service.data import scan_path
    from verify_service.services import keys

    scan_path.clear_cache()
    keys.clear_cache()
    app.extensions["warm_up"]()
    index = next(iter(scan_path._indexes.values()))
    assert index.complete_at is not None and len(index.entries[1]) == 1
    assert not keys._cache  # the ring is left to the first scan: keys made meanwhile must verify
    assert index.find(int(labels[0]["serial"])).id == int(labels[0]["batch_id"])

    empty = create_app({**app.config, "DATABASE_URL": f"sqlite:///{tmp_path / 'not-migrated.db'}"})
    empty.extensions["warm_up"]()  # no tables yet: logged, not raised
    assert "warming up the scan path failed" in caplog.text
    empty.extensions["db"].engine.dispose()


def test_first_scan_loads_the_batch_cache_after_a_failed_warm_up(app: Any, client: Any,
                                                                 labels: list[dict[str, str]],
                                                                 monkeypatch: Any) -> None:
    from verify_service.data import scan_path

    scan_path.clear_cache()
    real = scan_path.read

    def not_ready(stmt: Any, *args: Any) -> Any:
        if stmt is scan_path._COUNT_BATCHES:
            raise RuntimeError("database not ready")
        return real(stmt, *args)

    monkeypatch.setattr(scan_path, "read", not_ready)
    app.extensions["warm_up"]()
    index = next(iter(scan_path._indexes.values()))
    assert index.complete_at is None and index.due()
    monkeypatch.setattr(scan_path, "read", real)
    assert _verify(client, labels[0]["url"])["verdict"] == "authentic"
    assert index.complete_at is not None
