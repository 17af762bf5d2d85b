"""Explainable misuse signals over one label's scan history (pure functions).

A genuine label is normally checked by few *parties*: the buyer, perhaps a shop assistant
before the sale, a family member.  Scans are grouped into parties so that a household
re-scanning from one network, or one phone whose mobile address changes between scans, counts
once; a photocopied label shows up as many parties in a short time.  Each signal carries its
evidence and a weight; the verdict becomes ``suspected_clone`` when the weights reach the
threshold.  All thresholds are configuration (see README, "Clone and misuse signals").
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Sequence


@dataclass(frozen=True)
class ScanFact:
    at: dt.datetime
    network: str | None = None
    user_agent: str | None = None
    latitude: Decimal | float | None = None
    longitude: Decimal | float | None = None
    region: str | None = None


@dataclass(frozen=True)
class BatchFacts:
    issued_at: dt.datetime
    sales_region: str | None = None
    shelf_life_days: int | None = None
    release_date: dt.date | None = None


@dataclass(frozen=True)
class Thresholds:
    window_hours: float = 48
    parties: int = 5
    same_party_minutes: float = 30
    max_speed_kmh: float = 300
    min_travel_km: float = 50
    shelf_life_grace_days: int = 30
    threshold: float = 1.0

    @classmethod
    def from_config(cls, config: Any) -> "Thresholds":
        return cls(
            window_hours=float(config["CLONE_WINDOW_HOURS"]), parties=int(config["CLONE_PARTIES"]),
            same_party_minutes=float(config["CLONE_SAME_PARTY_MINUTES"]),
            max_speed_kmh=float(config["CLONE_MAX_SPEED_KMH"]), min_travel_km=float(config["CLONE_MIN_TRAVEL_KM"]),
            shelf_life_grace_days=int(config["SHELF_LIFE_GRACE_DAYS"]), threshold=float(config["CLONE_THRESHOLD"]),
        )


@dataclass
class Signal:
    code: str
    weight: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "weight": self.weight, "evidence": self.evidence}


WEIGHTS = {
    "many_parties": 1.0,
    "implausible_travel": 1.0,
    "pin_reused": 1.0,
    "out_of_region": 0.5,
    "past_shelf_life": 0.5,
    "before_release": 0.5,
}


def supernet(network: str | None) -> str | None:
    """The wider block a network belongs to (IPv4 /16, IPv6 /32): a mobile carrier's pool."""
    if not network:
        return None
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return None
    return str(net.supernet(new_prefix=16 if net.version == 4 else 32))


def parties(scans: Sequence[ScanFact], same_party_minutes: float) -> list[list[ScanFact]]:
    """Group scans (oldest first) into parties: the same network, or — a phone whose mobile
    address changes between scans — the same kind of client in the same carrier block within
    ``same_party_minutes`` of that party's previous scan."""
    gap = dt.timedelta(minutes=same_party_minutes)
    groups: list[list[ScanFact]] = []
    for scan in sorted(scans, key=lambda s: s.at):
        for group in groups:
            if scan.network is not None and any(s.network == scan.network for s in group):
                group.append(scan)
                break
            last = group[-1]
            if (scan.user_agent is not None and last.user_agent == scan.user_agent and scan.at - last.at <= gap
                    and supernet(scan.network) == supernet(last.network)):
                group.append(scan)
                break
        else:
            groups.append([scan])
    return groups


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="minutes")


def evaluate(history: Sequence[ScanFact], batch: BatchFacts, now: dt.datetime, today: dt.date,
             pin_use_count: int, pin_first_used_at: dt.datetime | None, t: Thresholds) -> list[Signal]:
    """Signals for a label given its scans (the current one included)."""
    found: list[Signal] = []
    window_start = now - dt.timedelta(hours=t.window_hours)
    recent = [s for s in history if s.at >= window_start]
    groups = parties(recent, t.same_party_minutes)
    if len(groups) >= t.parties:
        networks = sorted({s.network for g in groups for s in g if s.network})
        found.append(Signal("many_parties", WEIGHTS["many_parties"], {
            "parties": len(groups), "scans": len(recent), "window_hours": t.window_hours,
            "first_at": _iso(min(s.at for s in recent)), "last_at": _iso(max(s.at for s in recent)),
            "networks": networks[:10],
        }))
    located = sorted((s for s in history if s.latitude is not None and s.longitude is not None), key=lambda s: s.at)
    for a, b in zip(located, located[1:]):
        km = distance_km(float(a.latitude), float(a.longitude), float(b.latitude), float(b.longitude))  # type: ignore[arg-type]
        hours = max((b.at - a.at).total_seconds() / 3600, 1 / 60)
        if km >= t.min_travel_km and km / hours > t.max_speed_kmh:
            found.append(Signal("implausible_travel", WEIGHTS["implausible_travel"], {
                "from": {"at": _iso(a.at), "lat": float(a.latitude), "lon": float(a.longitude)},  # type: ignore[arg-type]
                "to": {"at": _iso(b.at), "lat": float(b.latitude), "lon": float(b.longitude)},  # type: ignore[arg-type]
                "km": round(km), "kmh": round(km / hours),
            }))
            break
    if batch.sales_region:
        outside = sorted({s.region for s in history if s.region and not (
            s.region.startswith(batch.sales_region) or batch.sales_region.startswith(s.region))})
        if outside:
            found.append(Signal("out_of_region", WEIGHTS["out_of_region"],
                                {"sales_region": batch.sales_region, "scanned_in": outside}))
    if pin_use_count >= 2:
        found.append(Signal("pin_reused", WEIGHTS["pin_reused"], {
            "uses": pin_use_count, "first_used_at": _iso(pin_first_used_at) if pin_first_used_at else None}))
    if batch.shelf_life_days:
        limit = batch.issued_at + dt.timedelta(days=batch.shelf_life_days + t.shelf_life_grace_days)
        if now > limit:
            found.append(Signal("past_shelf_life", WEIGHTS["past_shelf_life"], {
                "shelf_life_days": batch.shelf_life_days, "issued_at": _iso(batch.issued_at),
                "grace_days": t.shelf_life_grace_days}))
    if batch.release_date and today < batch.release_date:
        found.append(Signal("before_release", WEIGHTS["before_release"], {"release_date": batch.release_date.isoformat()}))
    return found


def score(signals: Sequence[Signal]) -> float:
    return round(sum(s.weight for s in signals), 3)
