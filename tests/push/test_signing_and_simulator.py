"""Request signing, the replay window, and the simulator's side of the contract."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from typing import Any

import pytest

from tests.push.conftest import SECRET
from verify_service.push import platform
from verify_service.push.simulator import Faults, SimulatorServer

BODY = b'{"records":[]}'


def test_signature_round_trip_and_tampering() -> None:
    headers = platform.signed_headers(SECRET, "POST", "/api/v1/records", BODY, now=1_800_000_000)
    assert headers["X-Timestamp"] == "1800000000" and headers["X-Signature"].startswith("sha256=")
    platform.verify_signature(SECRET, headers, "POST", "/api/v1/records", BODY, now=1_800_000_010)
    for secret, method, target, body in ((SECRET + "x", "POST", "/api/v1/records", BODY),
                                         (SECRET, "GET", "/api/v1/records", BODY),
                                         (SECRET, "POST", "/api/v1/records?x=1", BODY),
                                         (SECRET, "POST", "/api/v1/records", BODY + b" ")):
        with pytest.raises(platform.SignatureInvalid, match="bad signature"):
            platform.verify_signature(secret, headers, method, target, body, now=1_800_000_010)
    # A changed timestamp breaks the signature too (it is signed).
    moved = {**headers, "X-Timestamp": "1800000001"}
    with pytest.raises(platform.SignatureInvalid, match="bad signature"):
        platform.verify_signature(SECRET, moved, "POST", "/api/v1/records", BODY, now=1_800_000_010)


@pytest.mark.parametrize("skew, ok", [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_replay_window(skew: int, ok: bool) -> None:
    headers = platform.signed_headers(SECRET, "POST", "/p", BODY, now=1_800_000_000)
    if ok:
        platform.verify_signature(SECRET, headers, "POST", "/p", BODY, now=1_800_000_000 + skew)
    else:
        with pytest.raises(platform.SignatureInvalid, match="replay window"):
            platform.verify_signature(SECRET, headers, "POST", "/p", BODY, now=1_800_000_000 + skew)


@pytest.mark.parametrize("headers", [{}, {"X-Timestamp": "soon", "X-Signature": "sha256=00"}])
def test_missing_or_malformed_timestamp(headers: dict[str, str]) -> None:
    with pytest.raises(platform.SignatureInvalid, match="X-Timestamp"):
        platform.verify_signature(SECRET, headers, "POST", "/p", BODY)


def _envelope(kind: str = "fake.confirmed", **data: Any) -> dict[str, Any]:
    return {"idempotency_key": str(uuid.uuid4()), "kind": kind, "key": "K", "schema": platform.SCHEMA,
            "seq": 1, "occurred_at": "2026-06-15T04:00:00+00:00", "data": data or {"n": 1}}


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("POST", "/api/v1/records", body=body, headers=headers)
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    return r.status, data


def test_simulator_refuses_bad_signatures_and_stale_requests(simulator_url: str, simulator: SimulatorServer) -> None:
    body = json.dumps({"records": [_envelope()]}).encode()
    good = platform.signed_headers(SECRET, "POST", "/api/v1/records", body)
    assert _raw_post(simulator_url, body, {**good, "X-Signature": "sha256=" + "0" * 64})[0] == 401
    stale = platform.signed_headers(SECRET, "POST", "/api/v1/records", body, now=time.time() - 600)
    status, data = _raw_post(simulator_url, body, stale)
    assert status == 401 and "replay window" in data["error"]["message"]
    assert simulator.store.summary()["records"] == 0
    assert _raw_post(simulator_url, body, good)[0] == 200
    # The same signed request replayed inside the window is absorbed by the idempotency key.
    status, data = _raw_post(simulator_url, body, good)
    assert status == 200 and data["results"][0]["status"] == "duplicate"
    assert simulator.store.summary()["records"] == 1


def test_simulator_deduplicates_answers_entity_codes_and_lists(simulator_url: str, simulator: SimulatorServer) -> None:
    client = platform.PlatformClient(simulator_url, SECRET)
    ent = _envelope("enterprise.registered", entity={"credit_code": "91230184MA1B2C3D4E", "region_code": "230184"})
    bad = {**_envelope(), "schema": "nyt4712-2025/99"}
    batch = [ent, _envelope(), bad]
    first = client.send(batch)
    assert [r.ok for r in first] == [True, True, False]
    assert first[0].entity_code and first[0].entity_code.startswith("ZT230184")
    assert "unsupported schema" in (first[2].error or "")
    again = client.send(batch[:2])
    assert [r.ok for r in again] == [True, True] and again[0].entity_code == first[0].entity_code
    held = list(client.list_records(page_size=1))
    assert [r["idempotency_key"] for r in held] == [ent["idempotency_key"], batch[1]["idempotency_key"]]
    assert held[0]["deliveries"] == 2 and held[0]["entity_code"] == first[0].entity_code
    client.close()


def test_simulator_fault_injection_is_seeded(simulator_url: str) -> None:
    def draws(seed: int) -> list[str | None]:
        s = SimulatorServer(("127.0.0.1", 0), SECRET, faults=Faults(error_rate=0.2, timeout_rate=0.2,
                                                                    lost_ack_rate=0.2, duplicate_rate=0.2, seed=seed))
        out = [s.draw_fault() for _ in range(500)]
        s.server_close()
        return out

    a = draws(3)
    assert a == draws(3) and a != draws(4)
    for fault in ("error", "timeout", "lost_ack", "duplicate", None):
        assert 60 < a.count(fault) < 140, fault


def test_client_treats_errors_and_lost_acknowledgements_as_unavailable(simulator: SimulatorServer, simulator_url: str) -> None:
    client = platform.PlatformClient(simulator_url, SECRET, timeout=0.3)
    for faults, stored in ((Faults(error_rate=1.0), 0), (Faults(lost_ack_rate=1.0, seed=1), 1),
                           (Faults(timeout_rate=1.0, timeout_seconds=0.6), 1)):
        simulator.faults = faults
        with pytest.raises(platform.PlatformUnavailable):
            client.send([_envelope()])
        time.sleep(0.7 if faults.timeout_rate else 0)
        assert simulator.store.summary()["records"] >= stored
    simulator.faults = Faults(duplicate_rate=1.0)
    [result] = client.send([_envelope()])
    assert result.ok  # a duplicate acknowledgement is still an acknowledgement
    client.close()
