"""The scan path's conversion of driver rows (SQLite's text and PostgreSQL's typed values)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from verify_service.data.scan_path import _converted

UTC = dt.timezone.utc


def test_sqlite_values_are_converted() -> None:
    row = ("2026-06-15 04:00:00.000123", "x", 7, "2027-12-31", 1, 0, 12.5, None)
    assert _converted("t s i d b b n t", row) == (
        dt.datetime(2026, 6, 15, 4, 0, 0, 123, tzinfo=UTC), "x", 7, dt.date(2027, 12, 31), True, False,
        Decimal("12.5"), None)


def test_postgresql_values_are_kept_or_moved_to_utc() -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    row = (dt.datetime(2026, 6, 15, 12, 0, tzinfo=beijing), dt.date(2027, 12, 31), True, Decimal("31.23"), None, "s")
    out = _converted("t d b n d s", row)
    assert out == (dt.datetime(2026, 6, 15, 4, 0, tzinfo=UTC), dt.date(2027, 12, 31), True, Decimal("31.23"), None, "s")
    assert out[0].tzinfo is UTC and out[3] is row[3]


def test_a_row_of_nulls_stays_null() -> None:
    assert _converted("t d n b s i", (None,) * 6) == (None,) * 6
