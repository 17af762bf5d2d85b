"""Push metrics: the worker's own counters, and backlog gauges read from the database.

The worker is a separate process, so web processes cannot see its counters; they expose
the outbox's state instead, computed from the database at scrape time
(:class:`OutboxCollector`).  The worker serves its counters itself with
``push worker --metrics-port N``.
"""

from __future__ import annotations

import logging
from typing import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

RECORDS = Counter("labels_push_records_total", "Outbox records settled by this worker, by outcome", ["outcome"])
SEND_SECONDS = Histogram(
    "labels_push_send_seconds", "Time to deliver one batch to the platform",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class OutboxCollector(Collector):
    """Outbox gauges computed from the database when scraped (needs an application context)."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from flask import has_app_context

        if not has_app_context():
            return iter(())
        from verify_service.push import ops

        try:
            s = ops.status()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is away
            log.warning("push metrics: outbox state unavailable", exc_info=True)
            return iter(())
        records, oldest, retrying, unregistered = self._families()
        for status in ("pending", "sent", "parked"):
            records.add_metric([status], s["counts"].get(status, 0))
        oldest.add_metric([], s["oldest_pending_age_seconds"] or 0.0)
        retrying.add_metric([], s["retrying"])
        unregistered.add_metric([], s["unregistered_enterprises"])
        return iter((records, oldest, retrying, unregistered))

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("labels_push_outbox_records", "Outbox records by status", labels=["status"]),
            GaugeMetricFamily("labels_push_oldest_pending_age_seconds", "Age of the oldest unsent record"),
            GaugeMetricFamily("labels_push_retrying_records", "Pending records that failed at least once"),
            GaugeMetricFamily("labels_push_unregistered_enterprises",
                              "Certified enterprises without a platform entity code"),
        )


_registry = CollectorRegistry(auto_describe=True)
_registry.register(OutboxCollector())


def exposition() -> bytes:
    """The outbox gauges in Prometheus text format (appended to the service's /metrics)."""
    return generate_latest(_registry)
