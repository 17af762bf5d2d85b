"""Time, in one replaceable place (tests install a fixed clock)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

#: China has one time zone without daylight saving: certificate dates are China dates.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class FixedClock:
    """A clock for tests: returns a set time until moved."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at = self.at + dt.timedelta(**kwargs)

    def set_date(self, day: dt.date) -> None:
        """Move to noon China time on ``day``."""
        self.at = dt.datetime.combine(day, dt.time(12), CHINA_TZ).astimezone(dt.timezone.utc)


def today_in_china(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA_TZ).date()


def now() -> dt.datetime:
    """The current UTC time from the application's clock."""
    from flask import current_app

    clock: Clock = current_app.extensions["clock"]
    return clock.now()


def today() -> dt.date:
    """Today's date in China."""
    return today_in_china(now())
