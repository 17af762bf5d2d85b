"""Issuer (admin) API: enterprises, certificates with products, status changes, audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from verify_service.api.common import audit_log_page, doc, parse_body
from verify_service.auth import current_principal, require_role
from verify_service.schemas import (
    CertificateIn,
    EnterpriseChange,
    EnterpriseIn,
    GiAuthorisationIn,
    StatusChangeIn,
)
from verify_service.services import registry

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")


@bp.post("/enterprises")
@require_role("admin")
@doc("Register an enterprise", body=EnterpriseIn, responses={201: "the enterprise", 409: "already registered"}, tag="admin")
def create_enterprise() -> Any:
    p = current_principal()
    return registry.register_enterprise(parse_body(EnterpriseIn), p.actor, p.role), 201


@bp.get("/enterprises/<uscc>")
@require_role("admin")
@doc("An enterprise with its certificate numbers", tag="admin")
def get_enterprise(uscc: str) -> Any:
    return registry.get_enterprise_view(uscc)


@bp.patch("/enterprises/<uscc>")
@require_role("admin")
@doc("Change an enterprise's details", body=EnterpriseChange, tag="admin")
def patch_enterprise(uscc: str) -> Any:
    p = current_principal()
    return registry.update_enterprise(uscc, parse_body(EnterpriseChange), p.actor, p.role)


@bp.post("/certificates")
@require_role("admin")
@doc("Issue a certificate with its products", body=CertificateIn,
     responses={201: "the certificate with its products' ids", 409: "number exists"}, tag="admin")
def create_certificate() -> Any:
    p = current_principal()
    return registry.issue_certificate(parse_body(CertificateIn), p.actor, p.role), 201


@bp.get("/certificates/<number>")
@require_role("admin")
@doc("A certificate with products, status history and GI authorised users", tag="admin")
def get_certificate(number: str) -> Any:
    return registry.get_certificate_view(number)


@bp.post("/certificates/<number>/status")
@require_role("admin")
@doc("Change a certificate's status (suspend, reinstate, revoke, renew, cancel)", body=StatusChangeIn,
     responses={200: "the certificate with its history", 409: "transition not allowed"}, tag="admin")
def change_status(number: str) -> Any:
    p = current_principal()
    return registry.change_status(number, parse_body(StatusChangeIn), p.actor, p.role)


@bp.post("/certificates/<number>/gi-authorisations")
@require_role("admin")
@doc("Authorise an enterprise to use a GI for a year (quantity and scope)", body=GiAuthorisationIn,
     responses={201: "the authorisation"}, tag="admin")
def add_gi_authorisation(number: str) -> Any:
    p = current_principal()
    return registry.add_gi_authorisation(number, parse_body(GiAuthorisationIn), p.actor, p.role), 201


@bp.get("/audit-log")
@require_role("admin")
@doc("The append-only audit log, newest first (filters: target_type, target_id, before_id, limit)", tag="admin")
def audit_log() -> Any:
    return audit_log_page()
