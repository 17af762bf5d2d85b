"""A stand-in for the national traceability platform, for development and tests.

A real HTTP server (stdlib ``ThreadingHTTPServer``) implementing the server side of the
contract in :mod:`verify_service.push.platform`: it checks each request's signature and
replay window, de-duplicates records by idempotency key, stores what it accepted (in memory
or in a SQLite file), answers entity registrations with an entity code (主体码) and lists what
it holds for reconciliation.  Fault injection makes it misbehave like a real remote system:
errors, timeouts, slowness, lost acknowledgements and duplicate deliveries.

The entity code format is invented here (the real one is not public): ``ZT`` followed by the
region code and ten characters derived from the credit code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import socket
import sqlite3
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from verify_service.push import platform

log = logging.getLogger("verify_service.push.simulator")

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_RECORDS_PER_REQUEST = 5000


@dataclass
class Faults:
    """Probabilities (0–1) of each injected fault per batch request."""

    error_rate: float = 0.0
    timeout_rate: float = 0.0
    #: How long a "timeout" stalls before it answers (set it past the client's timeout).
    timeout_seconds: float = 15.0
    slow_ms: int = 0
    lost_ack_rate: float = 0.0
    duplicate_rate: float = 0.0
    seed: int | None = None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, key TEXT NOT NULL, schema TEXT NOT NULL,
    occurred_at TEXT, received_at TEXT NOT NULL, deliveries INTEGER NOT NULL DEFAULT 1,
    payload_sha256 TEXT NOT NULL, entity_code TEXT, envelope TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (credit_code TEXT PRIMARY KEY, entity_code TEXT NOT NULL);
"""


class PlatformStore:
    """What the simulated platform holds (thread-safe; one SQLite connection behind a lock)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.stats = {"requests": 0, "accepted": 0, "duplicates": 0, "rejected": 0, "refused": 0,
                      "faults_error": 0, "faults_timeout": 0, "faults_lost_ack": 0, "faults_duplicate": 0}

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.stats[name] += n

    def accept(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store a batch in one transaction; one result per record."""
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        results = []
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN")
            try:
                for r in records:
                    results.append(self._accept_one(cur, r, now))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            for res in results:
                self.stats[{"accepted": "accepted", "duplicate": "duplicates"}.get(res["status"], "rejected")] += 1
        return results

    def _accept_one(self, cur: sqlite3.Cursor, r: Any, now: str) -> dict[str, Any]:
        problem = _validate(r)
        if problem:
            key = r.get("idempotency_key") if isinstance(r, dict) else None
            return {"idempotency_key": key, "status": "rejected", "error": problem}
        key = r["idempotency_key"]
        entity_code = None
        if r["kind"] in ("enterprise.registered", "enterprise.changed"):
            entity_code = self._entity_code(cur, r["data"]["entity"])
        updated = cur.execute(
            "UPDATE records SET deliveries = deliveries + 1 WHERE idempotency_key = ?", (key,)
        ).rowcount
        if updated:
            return {"idempotency_key": key, "status": "duplicate", "entity_code": entity_code}
        cur.execute(
            "INSERT INTO records (idempotency_key, kind, key, schema, occurred_at, received_at,"
            " payload_sha256, entity_code, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, r["kind"], str(r.get("key", "")), r["schema"], r.get("occurred_at"), now,
             platform.payload_digest(r["data"]), entity_code, json.dumps(r, ensure_ascii=False)),
        )
        return {"idempotency_key": key, "status": "accepted", "entity_code": entity_code}

    @staticmethod
    def _entity_code(cur: sqlite3.Cursor, entity: dict[str, Any]) -> str:
        credit_code = entity["credit_code"]
        row = cur.execute("SELECT entity_code FROM entities WHERE credit_code = ?", (credit_code,)).fetchone()
        if row:
            return str(row[0])
        digest = hashlib.sha256(credit_code.encode()).hexdigest()[:10].upper()
        code = f"ZT{entity.get('region_code') or '000000'}{digest}"
        cur.execute("INSERT INTO entities (credit_code, entity_code) VALUES (?, ?)", (credit_code, code))
        return code

    def list(self, after: int, limit: int) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, idempotency_key, kind, key, schema, occurred_at, received_at, deliveries,"
                " payload_sha256, entity_code FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        cols = ("seq", "idempotency_key", "kind", "key", "schema", "occurred_at", "received_at",
                "deliveries", "payload_sha256", "entity_code")
        records = [dict(zip(cols, row)) for row in rows]
        return {"records": records, "next": records[-1]["seq"] if len(records) == limit else None}

    def get(self, idempotency_key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, received_at, deliveries, entity_code, envelope FROM records WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
        if row is None:
            return None
        return {"seq": row[0], "received_at": row[1], "deliveries": row[2], "entity_code": row[3],
                "record": json.loads(row[4])}

    def entity(self, credit_code: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT entity_code FROM entities WHERE credit_code = ?", (credit_code,)).fetchone()
        return str(row[0]) if row else None

    def summary(self) -> dict[str, Any]:
        with self._lock:
            held = self._db.execute("SELECT count(*), coalesce(sum(deliveries), 0) FROM records").fetchone()
            stats = dict(self.stats)
        return {"records": held[0], "deliveries": held[1], **stats}


def _validate(r: Any) -> str | None:
    if not isinstance(r, dict):
        return "a record must be an object"
    key = r.get("idempotency_key")
    if not isinstance(key, str) or not 8 <= len(key) <= 64:
        return "idempotency_key must be a string of 8 to 64 characters"
    if r.get("kind") not in platform.KINDS:
        return f"unknown kind {r.get('kind')!r}"
    if r.get("schema") != platform.SCHEMA:
        return f"unsupported schema {r.get('schema')!r} (expected {platform.SCHEMA})"
    if not isinstance(r.get("data"), dict):
        return "data must be an object"
    if r["kind"] in ("enterprise.registered", "enterprise.changed"):
        ent = r["data"].get("entity")
        if not isinstance(ent, dict) or not isinstance(ent.get("credit_code"), str) or len(ent["credit_code"]) != 18:
            return "entity.credit_code (18 characters) is required"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "SimulatorServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self._reply(413, {"error": {"code": "too_large", "message": "body too large"}}, close=True)
            return
        body = self.rfile.read(length) if length else b""
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/healthz":
            self._reply(200, {"status": "ok"})
            return
        try:
            platform.verify_signature(self.server.secret, self.headers, method, self.path, body,
                                      window=self.server.replay_window)
        except platform.SignatureInvalid as exc:
            self.server.store.count("refused")
            self._reply(401, {"error": {"code": "unauthorized", "message": str(exc)}})
            return
        if method == "POST" and parts.path == "/api/v1/records":
            self._post_records(body)
        elif method == "GET" and parts.path == "/api/v1/records":
            q = urllib.parse.parse_qs(parts.query)
            try:
                after = int(q.get("after", ["0"])[0])
                limit = max(1, min(int(q.get("limit", ["1000"])[0]), 10_000))
            except ValueError:
                self._reply(400, {"error": {"code": "bad_request", "message": "after and limit must be integers"}})
                return
            self._reply(200, self.server.store.list(after, limit))
        elif method == "GET" and parts.path.startswith("/api/v1/records/"):
            found = self.server.store.get(urllib.parse.unquote(parts.path.rsplit("/", 1)[1]))
            if found is None:
                self._reply(404, {"error": {"code": "not_found", "message": "no such record"}})
            else:
                self._reply(200, found)
        elif method == "GET" and parts.path.startswith("/api/v1/entities/"):
            code = self.server.store.entity(urllib.parse.unquote(parts.path.rsplit("/", 1)[1]))
            if code is None:
                self._reply(404, {"error": {"code": "not_found", "message": "entity not registered"}})
            else:
                self._reply(200, {"entity_code": code})
        elif method == "GET" and parts.path == "/api/v1/stats":
            self._reply(200, self.server.store.summary())
        else:
            self._reply(404, {"error": {"code": "not_found", "message": f"no route {method} {parts.path}"}})

    def _post_records(self, body: bytes) -> None:
        store, faults = self.server.store, self.server.faults
        store.count("requests")
        try:
            records = json.loads(body)["records"]
            if not isinstance(records, list) or len(records) > MAX_RECORDS_PER_REQUEST:
                raise ValueError(f"records must be a list of at most {MAX_RECORDS_PER_REQUEST}")
        except (ValueError, KeyError, TypeError) as exc:
            self._reply(400, {"error": {"code": "bad_request", "message": f"unreadable body: {exc}"}})
            return
        fault = self.server.draw_fault()
        if faults.slow_ms:
            time.sleep(faults.slow_ms / 1000)
        if fault == "error":
            store.count("faults_error")
            self._reply(503, {"error": {"code": "unavailable", "message": "injected error"}})
            return
        if fault == "timeout":
            # Stall past the client's timeout, then process anyway: the client never learns.
            store.count("faults_timeout")
            time.sleep(faults.timeout_seconds)
        results = store.accept(records)
        if fault == "duplicate":
            # The same delivery arrives twice (a retransmission): the second must be absorbed.
            store.count("faults_duplicate")
            results = store.accept(records)
        if fault == "lost_ack":
            store.count("faults_lost_ack")
            if self.server.rng_choice():
                self._reply(500, {"error": {"code": "internal", "message": "injected lost acknowledgement"}})
            else:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return
        self._reply(200, {"results": results})

    def _reply(self, status: int, obj: Any, close: bool = False) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], secret: str, *, store: PlatformStore | None = None,
                 faults: Faults | None = None, replay_window: int = platform.REPLAY_WINDOW_SECONDS) -> None:
        super().__init__(address, _Handler)
        self.secret = secret
        self.store = store or PlatformStore()
        self.faults = faults or Faults()
        self.replay_window = replay_window
        self._rng = random.Random(self.faults.seed)
        self._rng_lock = threading.Lock()

    def draw_fault(self) -> str | None:
        f = self.faults
        with self._rng_lock:
            x = self._rng.random()
        for name, rate in (("error", f.error_rate), ("timeout", f.timeout_rate),
                           ("lost_ack", f.lost_ack_rate), ("duplicate", f.duplicate_rate)):
            if x < rate:
                return name
            x -= rate
        return None

    def rng_choice(self) -> bool:
        with self._rng_lock:
            return self._rng.random() < 0.5


def serve(host: str, port: int, secret: str, *, db_path: str = ":memory:", faults: Faults | None = None,
          replay_window: int = platform.REPLAY_WINDOW_SECONDS) -> SimulatorServer:
    """Create a bound server (call ``serve_forever`` on it, or run it in a thread)."""
    return SimulatorServer((host, port), secret, store=PlatformStore(db_path), faults=faults,
                           replay_window=replay_window)
