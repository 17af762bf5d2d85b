"""Health, readiness, metrics, OpenAPI and the schema built by migrations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from verify_service import create_app, migrate
from verify_service.db import make_engine
from verify_service.models import Base


def test_healthz(client: Any) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}


def test_readyz_at_head(client: Any) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.json
    assert r.json["migrations"] == "at head" and r.json["schema_revision"] == r.json["head_revision"]


def test_readyz_503_without_migrations(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "TESTING": True})
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.json["migrations"] == "pending"


def test_readyz_503_when_database_unreachable() -> None:
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1", "TESTING": True})
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.json["database"] == "unreachable"


def test_metrics_prometheus_text(client: Any) -> None:
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert 'labels_http_requests_total{endpoint="meta.healthz",method="GET",status="200"}' in r.get_data(as_text=True)


def test_openapi_covers_every_api_route(app: Any, client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    op = doc["paths"]["/api/v1/admin/certificates"]["post"]
    assert op["security"] == [{"bearer": []}]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/CertificateIn"
    assert "CertificateIn" in doc["components"]["schemas"]


def test_models_and_migrations_agree(database_url: str) -> None:
    """The schema the migrations build is exactly what the models describe."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_downgrade_and_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    engine = make_engine(url)
    assert migrate.current_revision(engine) == migrate.head_revision(url)
    engine.dispose()


def test_unknown_path_and_method_are_json_on_api(client: Any) -> None:
    r = client.get("/api/v1/nowhere")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    r = client.delete("/api/v1/openapi.json")
    assert r.status_code == 405 and "error" in r.json
