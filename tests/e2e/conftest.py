"""A real gunicorn serving the test database, for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import REPO_ROOT

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    base_url: str
    process: subprocess.Popen[bytes]

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        url = path if path.lower().startswith("http") else self.url + path
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def json(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, _, raw = self.request(method, path, body, {"Accept": "application/json", **(headers or {})})
        return status, json.loads(raw)


def start_gunicorn(database_url: str, app_config: dict[str, Any], workers: int = 2,
                   extra_env: dict[str, str] | None = None) -> LiveServer:
    port = free_port()
    base_url = f"HTTP://127.0.0.1:{port}/L/"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LABEL_KEY_PASSPHRASE": app_config["LABEL_KEY_PASSPHRASE"],
        "PIN_SECRET": app_config["PIN_SECRET"],
        "SECRET_KEY": app_config["SECRET_KEY"],
        "LABEL_BASE_URL": base_url,
        "WEB_CONCURRENCY": str(workers),
        "ACCESS_LOG": "",
        "LOG_LEVEL": "WARNING",
    }
    env.update(extra_env or {})
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = LiveServer(f"http://127.0.0.1:{port}", base_url, proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited: " + (proc.stderr.read().decode() if proc.stderr else ""))
        try:
            if server.request("GET", "/healthz", timeout=2)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start within 30 s")


def stop(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture
def live_server(app: Any, database_url: str, app_config: dict[str, Any]) -> Iterator[LiveServer]:
    """gunicorn (2 workers) on a free port, sharing the test database with ``app``."""
    server = start_gunicorn(database_url, app_config)
    yield server
    stop(server)
