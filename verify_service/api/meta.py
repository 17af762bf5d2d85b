"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from verify_service import metrics
from verify_service.api.common import doc
from verify_service.auth import public
from verify_service.openapi import build_openapi
from verify_service.services import health

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
@public
def healthz() -> Any:
    return {"status": "ok"}


@bp.get("/readyz")
@public
def readyz() -> Any:
    ok, detail = health.readiness()
    detail["status"] = "ready" if ok else "not ready"
    return jsonify(detail), 200 if ok else 503


@bp.get("/metrics")
@public
def prometheus_metrics() -> Any:
    return metrics.exposition(current_app.config["PROMETHEUS_MULTIPROC_DIR"])


@bp.get("/api/v1/openapi.json")
@public
@doc("This OpenAPI 3 document", tag="meta")
def openapi() -> Any:
    return build_openapi(current_app)
