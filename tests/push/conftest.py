"""Fixtures of the push tests: an in-process platform simulator and an app pointed at it."""

from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest

from verify_service.push.simulator import Faults, SimulatorServer

SECRET = "test platform secret"


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(("127.0.0.1", 0), SECRET, faults=Faults())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def simulator_url(simulator: SimulatorServer) -> str:
    return f"http://127.0.0.1:{simulator.server_address[1]}"


@pytest.fixture
def app_config(app_config: dict[str, Any], simulator_url: str) -> dict[str, Any]:
    return {
        **app_config,
        "PLATFORM_URL": simulator_url,
        "PLATFORM_SECRET": SECRET,
        "PUSH_BATCH_SIZE": 50,
        "PUSH_MAX_ATTEMPTS": 3,
        "PUSH_TIMEOUT_SECONDS": 2.0,
        "PUSH_LEASE_SECONDS": 30.0,
        "PUSH_BACKOFF_BASE_SECONDS": 10.0,
        "PUSH_BACKOFF_MAX_SECONDS": 600.0,
    }
