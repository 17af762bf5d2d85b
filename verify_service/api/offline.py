"""The signed offline status bundle (public: it holds nothing the scan API does not reveal)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from verify_service.api.common import doc
from verify_service.auth import public
from verify_service.services import offline

bp = Blueprint("offline", __name__)

#: Verifiers poll for fresh bundles; a short shared cache spares the database a full
#: registry read per poll while keeping void and status changes at most this old.
CACHE_SECONDS = 300


@bp.get("/api/v1/offline-bundle")
@public
@doc("Signed offline status bundle (application/octet-stream): public keys, certificate "
     "statuses, batch serial ranges, voided labels and batches; see docs/offline-bundle.md", tag="public")
def offline_bundle() -> Any:
    bundle = offline.build_bundle()
    resp = Response(bundle.data, mimetype="application/octet-stream")
    resp.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    resp.headers["Content-Disposition"] = 'attachment; filename="offline-bundle.bin"'
    resp.headers["X-Bundle-Generated-At"] = bundle.generated_at.isoformat()
    resp.headers["X-Bundle-Expires-At"] = bundle.expires_at.isoformat()
    resp.last_modified = bundle.generated_at
    return resp
