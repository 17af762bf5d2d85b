"""Enterprise API: the token's own enterprise only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from verify_service.api.common import doc
from verify_service.auth import current_principal, require_role
from verify_service.services import registry

bp = Blueprint("enterprise", __name__, url_prefix="/api/v1/enterprise")


@bp.get("/certificates")
@require_role("enterprise")
@doc("The token's enterprise's certificates with their products", tag="enterprise")
def certificates() -> Any:
    p = current_principal()
    assert p.enterprise_id is not None  # enterprise tokens are always bound
    return {"certificates": registry.list_certificates_of(p.enterprise_id)}
