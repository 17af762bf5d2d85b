"""Registry use cases: enterprises, certificates with products, status changes, GI users."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from verify_service import clock
from verify_service.data import registry as data
from verify_service.domain import certificates as rules
from verify_service.domain.identifiers import add_years
from verify_service.errors import Conflict, NotFound, ValidationFailed
from verify_service.models import (
    Certificate,
    CertificateStatusEvent,
    Enterprise,
    GiAuthorisation,
    Product,
)
from verify_service.schemas import (
    CertificateIn,
    EnterpriseChange,
    EnterpriseIn,
    GiAuthorisationIn,
    ProductIn,
    StatusChangeIn,
)
from verify_service.push import outbox, platform
from verify_service.services import audit

PROGRAMME_MARKS = {"green_food": "绿色食品", "organic": "有机产品", "gi": "农产品地理标志"}
FEE_WAIVER_YEARS = 5


# --- enterprises -------------------------------------------------------------------------


def register_enterprise(body: EnterpriseIn, actor: str, role: str) -> dict[str, Any]:
    if data.find_enterprise_by_uscc(body.uscc) is not None:
        raise Conflict(f"enterprise {body.uscc} is already registered", code="enterprise_exists")
    enterprise = _create_enterprise(body)
    audit.record(actor, role, "enterprise.register", "enterprise", body.uscc, name=body.name)
    outbox.emit("enterprise.registered", enterprise.uscc, platform.entity(enterprise))
    return enterprise_view(enterprise)


def _create_enterprise(body: EnterpriseIn) -> Enterprise:
    if body.gf_code and data.find_enterprise_by_gf_code(body.gf_code) is not None:
        raise Conflict(f"GF code {body.gf_code} belongs to another enterprise", code="gf_code_taken")
    now = clock.now()
    return data.add(Enterprise(**body.model_dump(), created_at=now, updated_at=now))


def update_enterprise(uscc: str, change: EnterpriseChange, actor: str, role: str) -> dict[str, Any]:
    enterprise = get_enterprise(uscc)
    changed = _apply_changes(enterprise, change.model_dump(exclude_unset=True))
    if changed:
        audit.record(actor, role, "enterprise.update", "enterprise", uscc, changed=changed)
        outbox.emit("enterprise.changed", enterprise.uscc, platform.entity(enterprise))
    return enterprise_view(enterprise)


def _apply_changes(enterprise: Enterprise, values: dict[str, Any]) -> list[str]:
    gf = values.get("gf_code")
    if gf and gf != enterprise.gf_code:
        other = data.find_enterprise_by_gf_code(gf)
        if other is not None and other.id != enterprise.id:
            raise Conflict(f"GF code {gf} belongs to another enterprise", code="gf_code_taken")
    changed = [k for k, v in values.items() if getattr(enterprise, k) != v]
    for key in changed:
        setattr(enterprise, key, values[key])
    if changed:
        enterprise.updated_at = clock.now()
        data.flush()
    return changed


def upsert_enterprise(body: EnterpriseIn) -> str:
    """Create or update from an import: ``created``, ``updated`` or ``unchanged``."""
    enterprise = data.find_enterprise_by_uscc(body.uscc)
    if enterprise is None:
        enterprise = _create_enterprise(body)
        outbox.emit("enterprise.registered", enterprise.uscc, platform.entity(enterprise))
        return "created"
    if not _apply_changes(enterprise, body.model_dump(exclude={"uscc"})):
        return "unchanged"
    outbox.emit("enterprise.changed", enterprise.uscc, platform.entity(enterprise))
    return "updated"


def get_enterprise(uscc: str) -> Enterprise:
    enterprise = data.find_enterprise_by_uscc(uscc.strip().upper())
    if enterprise is None:
        raise NotFound(f"no enterprise with credit code {uscc}")
    return enterprise


def get_enterprise_view(uscc: str) -> dict[str, Any]:
    enterprise = get_enterprise(uscc)
    view = enterprise_view(enterprise)
    view["certificates"] = [c.number for c in enterprise.certificates]
    return view


def enterprise_view(e: Enterprise) -> dict[str, Any]:
    return {
        "uscc": e.uscc, "name": e.name, "county_code": e.county_code, "gf_code": e.gf_code,
        "address": e.address, "contact_name": e.contact_name, "contact_phone": e.contact_phone,
        "poverty_exit_date": _iso(e.poverty_exit_date),
        "platform_entity_code": e.platform_entity_code,
    }


# --- certificates ------------------------------------------------------------------------


def issue_certificate(body: CertificateIn, actor: str, role: str) -> dict[str, Any]:
    if data.find_certificate(body.number) is not None:
        raise Conflict(f"certificate {body.number} already exists", code="certificate_exists")
    cert = _create_certificate(body, actor)
    audit.record(actor, role, "certificate.issue", "certificate", cert.number,
                 programme=cert.programme, enterprise=body.enterprise_uscc)
    outbox.emit("certificate.issued", cert.number, platform.certification(cert))
    return certificate_view(cert)


def _create_certificate(body: CertificateIn, actor: str) -> Certificate:
    enterprise = data.find_enterprise_by_uscc(body.enterprise_uscc)
    if enterprise is None:
        raise NotFound(f"no enterprise with credit code {body.enterprise_uscc}; register it first",
                       code="enterprise_not_found")
    now = clock.now()
    cert = data.add(Certificate(
        number=body.number, programme=body.programme, enterprise_id=enterprise.id,
        grade=body.grade, issuer=body.issuer, valid_from=body.valid_from, valid_to=body.valid_to,
        status="valid", status_changed_at=now, created_at=now, updated_at=now,
    ))
    data.add(CertificateStatusEvent(
        certificate_id=cert.id, action="issue", from_status=None, to_status="valid",
        reason="certificate issued", actor=actor, valid_to=body.valid_to, at=now,
    ))
    for p in body.products:
        _add_product(cert, p)
    return cert


def _add_product(cert: Certificate, p: ProductIn) -> Product:
    return data.add(Product(certificate_id=cert.id, **p.model_dump(), created_at=clock.now()))


def upsert_certificate(body: CertificateIn, actor: str) -> str:
    """Create or update from an import (``created``, ``updated``, ``unchanged``).

    Status is never changed by an import, and products are only added or updated.
    """
    cert = data.find_certificate(body.number)
    if cert is None:
        cert = _create_certificate(body, actor)
        outbox.emit("certificate.issued", cert.number, platform.certification(cert))
        return "created"
    enterprise = data.find_enterprise_by_uscc(body.enterprise_uscc)
    if enterprise is None or enterprise.id != cert.enterprise_id:
        raise Conflict(f"certificate {body.number} belongs to {cert.enterprise.uscc}, not {body.enterprise_uscc}")
    if cert.programme != body.programme:
        raise Conflict(f"certificate {body.number} is {cert.programme}, not {body.programme}")
    changed = False
    for field in ("valid_from", "valid_to", "grade", "issuer"):
        new = getattr(body, field)
        if getattr(cert, field) != new:
            setattr(cert, field, new)
            changed = True
    for p in body.products:
        existing = data.find_product(cert.id, p.name)
        if existing is None:
            _add_product(cert, p)
            changed = True
            continue
        for field, new in p.model_dump(exclude={"name"}).items():
            if _differs(getattr(existing, field), new):
                setattr(existing, field, new)
                changed = True
    if changed:
        cert.updated_at = clock.now()
        data.flush()
        outbox.emit("certificate.updated", cert.number, platform.certification(cert))
    return "updated" if changed else "unchanged"


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return (Decimal(old) if old is not None else None) != (Decimal(new) if new is not None else None)
    return bool(old != new)


def get_certificate(number: str) -> Certificate:
    cert = data.find_certificate(number.strip().upper())
    if cert is None:
        raise NotFound(f"no certificate {number}", code="certificate_not_found")
    return cert


def get_certificate_view(number: str) -> dict[str, Any]:
    cert = get_certificate(number)
    view = certificate_view(cert)
    view["status_history"] = [
        {"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
         "reason": e.reason, "actor": e.actor, "valid_to": _iso(e.valid_to), "at": e.at.isoformat()}
        for e in data.list_status_events(cert.id)
    ]
    if cert.programme == "gi":
        view["gi_authorisations"] = [gi_view(a) for a in data.list_gi_authorisations(cert.id)]
    return view


def list_certificates_of(enterprise_id: int) -> list[dict[str, Any]]:
    return [certificate_view(c) for c in data.list_certificates(enterprise_id=enterprise_id, limit=10_000)]


def change_status(number: str, body: StatusChangeIn, actor: str, role: str) -> dict[str, Any]:
    """Apply a status change if the rules allow it (409 otherwise) and record it in history."""
    cert = data.find_certificate_for_update(number.strip().upper())
    if cert is None:
        raise NotFound(f"no certificate {number}", code="certificate_not_found")
    today = clock.today()
    current = rules.effective_status(cert.status, cert.valid_to, today)
    renewing = body.valid_to is not None
    try:
        step = rules.plan_transition(current, body.status, renewing)
    except rules.IllegalTransition as exc:
        raise Conflict(str(exc), code="illegal_transition") from exc
    if body.valid_to is not None and step.action != "renew":
        raise ValidationFailed("valid_to can only be given when renewing (status valid)")
    new_valid_to = cert.valid_to
    if step.action == "renew":
        new_valid_to = body.valid_to or _renewed_valid_to(cert)
        if new_valid_to is not None and new_valid_to < today:
            raise ValidationFailed("a renewal must end in the future")
        if cert.valid_to is not None and new_valid_to is not None and new_valid_to <= cert.valid_to:
            raise ValidationFailed(f"a renewal must extend validity beyond {cert.valid_to.isoformat()}")
    now = clock.now()
    cert.status = step.to_status
    cert.valid_to = new_valid_to
    cert.status_changed_at = now
    cert.updated_at = now
    data.add(CertificateStatusEvent(
        certificate_id=cert.id, action=step.action, from_status=current, to_status=step.to_status,
        reason=body.reason, actor=actor, valid_to=new_valid_to, at=now,
    ))
    audit.record(actor, role, f"certificate.{step.action}", "certificate", cert.number,
                 from_status=current, to_status=step.to_status, reason=body.reason, valid_to=new_valid_to)
    outbox.emit(platform.STATUS_ACTION_KINDS[step.action], cert.number, platform.certification_status(
        cert, from_status=current, to_status=step.to_status, reason=body.reason, at=now))
    return get_certificate_view(cert.number)


def _renewed_valid_to(cert: Certificate) -> dt.date | None:
    from verify_service.domain.identifiers import VALIDITY_YEARS

    years = VALIDITY_YEARS[cert.programme]
    if years is None or cert.valid_to is None:
        return None
    return add_years(cert.valid_to, years)


def add_gi_authorisation(number: str, body: GiAuthorisationIn, actor: str, role: str) -> dict[str, Any]:
    cert = get_certificate(number)
    if cert.programme != "gi":
        raise ValidationFailed("authorised users exist only for GI registrations")
    enterprise = get_enterprise(body.enterprise_uscc)
    existing = data.find_gi_authorisation(cert.id, enterprise.id, body.year)
    if existing is not None:
        existing.quantity, existing.unit, existing.scope = body.quantity, body.unit, body.scope
        data.flush()
        auth = existing
    else:
        auth = data.add(GiAuthorisation(
            certificate_id=cert.id, enterprise_id=enterprise.id, year=body.year,
            quantity=body.quantity, unit=body.unit, scope=body.scope, created_at=clock.now(),
        ))
    audit.record(actor, role, "gi.authorise", "certificate", cert.number,
                 enterprise=enterprise.uscc, year=body.year, quantity=str(body.quantity), unit=body.unit)
    return gi_view(auth)


def gi_view(a: GiAuthorisation) -> dict[str, Any]:
    return {"enterprise_uscc": a.enterprise.uscc, "enterprise_name": a.enterprise.name,
            "year": a.year, "quantity": _num(a.quantity), "unit": a.unit, "scope": a.scope}


# --- views -------------------------------------------------------------------------------


def certificate_view(c: Certificate, today: dt.date | None = None) -> dict[str, Any]:
    today = today or clock.today()
    return {
        "number": c.number,
        "programme": c.programme,
        "mark": PROGRAMME_MARKS[c.programme],
        "status": rules.effective_status(c.status, c.valid_to, today),
        "grade": c.grade,
        "issuer": c.issuer,
        "valid_from": c.valid_from.isoformat(),
        "valid_to": _iso(c.valid_to),
        "enterprise": {"uscc": c.enterprise.uscc, "name": c.enterprise.name,
                       "county_code": c.enterprise.county_code, "gf_code": c.enterprise.gf_code},
        "fee_waiver": fee_waiver(c, today),
        "products": [product_view(p) for p in c.products],
    }


def product_view(p: Product) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "product_class": p.product_class, "trademark": p.trademark,
            "approved_output": _num(p.approved_output), "output_unit": p.output_unit}


def fee_waiver(c: Certificate, today: dt.date) -> dict[str, Any] | None:
    """Green food fees are waived for 5 years after the enterprise's county left poverty."""
    exit_date = c.enterprise.poverty_exit_date
    if c.programme != "green_food" or exit_date is None:
        return None
    until = add_years(exit_date, FEE_WAIVER_YEARS)
    return {"poverty_exit_date": exit_date.isoformat(), "until": until.isoformat(),
            "active": exit_date <= today <= until}


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _num(v: Decimal | None) -> str | None:
    if v is None:
        return None
    return format(v.normalize(), "f")
