"""Risk ranking of certificates and enterprises, for planning the year's sample tests.

The centre samples about 3,000 green food and 300 organic products a year; this ranks where
to look first.  Each row says why it ranks where it does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, Iterator

from verify_service import clock
from verify_service.data import fraud as fraud_data
from verify_service.domain import certificates as cert_rules
from verify_service.errors import ValidationFailed

#: Weight of each kind of evidence in the risk score.
WEIGHTS = {"confirmed_fakes": 5.0, "alerts": 3.0, "reports": 1.0, "invalid_scans": 0.2}
LABELS = {
    "confirmed_fakes": "confirmed fake(s)", "alerts": "clone alert(s)", "reports": "consumer report(s)",
    "invalid_scans": "scan(s) while the certificate was expired, suspended, revoked or cancelled",
}


def rank(by: str, *, days: int = 365, programme: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    if by not in ("certificate", "enterprise"):
        raise ValidationFailed("rank by certificate or enterprise")
    since = clock.now() - dt.timedelta(days=days)
    counts = fraud_data.risk_counts(since)
    ids = sorted({cid for per in counts.values() for cid in per if cid is not None})
    certificates = fraud_data.certificates_by_id(ids)
    today = clock.today()
    rows: dict[Any, dict[str, Any]] = {}
    for cid in ids:
        cert = certificates.get(cid)
        if cert is None or (programme and cert.programme != programme):
            continue
        if by == "certificate":
            key = cert.number
            row = rows.setdefault(key, {"certificate_number": cert.number, "programme": cert.programme,
                                        "status": cert_rules.effective_status(cert.status, cert.valid_to, today),
                                        "enterprise_uscc": cert.enterprise.uscc, "enterprise_name": cert.enterprise.name,
                                        "province": cert.enterprise.county_code[:2]})
        else:
            key = cert.enterprise.uscc
            row = rows.setdefault(key, {"enterprise_uscc": cert.enterprise.uscc, "enterprise_name": cert.enterprise.name,
                                        "province": cert.enterprise.county_code[:2], "certificates": []})
            row["certificates"].append(cert.number)
        for kind in WEIGHTS:
            row[kind] = row.get(kind, 0) + counts[kind].get(cid, 0)
    ranked = []
    for row in rows.values():
        row["score"] = round(sum(WEIGHTS[k] * row[k] for k in WEIGHTS), 2)
        row["reasons"] = [f"{row[k]} {LABELS[k]}" for k in WEIGHTS if row[k]]
        ranked.append(row)
    ranked.sort(key=lambda r: (-r["score"], r.get("certificate_number") or r["enterprise_uscc"]))
    for i, row in enumerate(ranked[:limit], start=1):
        row["rank"] = i
    return ranked[:limit]


def to_csv(rows: list[dict[str, Any]], by: str) -> Iterator[str]:
    key_cols = (["certificate_number", "programme", "status"] if by == "certificate" else ["certificates"])
    columns = ["rank", "score", *key_cols, "enterprise_uscc", "enterprise_name", "province", *WEIGHTS, "reasons"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([" ".join(row[c]) if c == "certificates" else "; ".join(row[c]) if c == "reasons" else row[c]
                         for c in columns])
    yield buf.getvalue()
