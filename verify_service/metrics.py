"""Prometheus metrics (prometheus-client), aggregated over gunicorn workers when configured."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess

HTTP_REQUESTS = Counter(
    "labels_http_requests_total", "HTTP requests by endpoint and status", ["method", "endpoint", "status"]
)
HTTP_LATENCY = Histogram(
    "labels_http_request_duration_seconds", "HTTP request latency by endpoint", ["endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        observe(request.method, request.endpoint or "unmatched", response.status_code, g.pop("metrics_started", None))
        return response


def observe(method: str, endpoint: str, status: int, started: float | None) -> None:
    """Count one answered request, and its latency from ``started`` (a ``time.perf_counter()``)."""
    key = (method if method in _METHODS else "other", endpoint, status)  # a client's method makes no new series
    children = _children.get(key)
    if children is None:
        # labels() validates and locks on every call; the scan API counts thousands a second
        children = (HTTP_REQUESTS.labels(key[0], endpoint, str(status)), HTTP_LATENCY.labels(endpoint))
        if len(_children) < _MAX_CHILDREN:
            _children[key] = children
    children[0].inc()
    if started is not None:
        children[1].observe(time.perf_counter() - started)


_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
_MAX_CHILDREN = 4096
#: (method, endpoint, status) -> the request counter's and the latency histogram's children
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def exposition(multiproc_dir: str) -> Response:
    if multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
    else:
        registry = REGISTRY
    from verify_service.push import metrics as push_metrics

    return Response(generate_latest(registry) + push_metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)
