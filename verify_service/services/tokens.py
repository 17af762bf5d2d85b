"""API tokens: created once, stored as a SHA-256 hash, revocable, optionally expiring."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from verify_service import clock
from verify_service.data import registry as registry_data
from verify_service.data import tokens as token_data
from verify_service.errors import NotFound, ValidationFailed

TOKEN_PREFIX = "lvs_"
ROLES = ("admin", "regulator", "enterprise")


@dataclass(frozen=True)
class Principal:
    """Who is calling: from the token, never from the request body."""

    token_id: int
    name: str
    role: str
    enterprise_id: int | None
    enterprise_uscc: str | None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}#{self.token_id}"


def hash_token(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    name: str, role: str, enterprise_uscc: str | None = None, expires_at: dt.datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """Create a token; returns the raw token (shown once) and its description."""
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise ValidationFailed("a token needs a name")
    enterprise_id = None
    if role == "enterprise":
        if not enterprise_uscc:
            raise ValidationFailed("an enterprise token needs --enterprise USCC")
        enterprise = registry_data.find_enterprise_by_uscc(enterprise_uscc.strip().upper())
        if enterprise is None:
            raise NotFound(f"no enterprise with credit code {enterprise_uscc}")
        enterprise_id = enterprise.id
    elif enterprise_uscc:
        raise ValidationFailed("only enterprise tokens are bound to an enterprise")
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed("expiry must be in the future")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = token_data.create_token(
        name=name.strip(), role=role, enterprise_id=enterprise_id, token_hash=hash_token(raw),
        prefix=raw[:10], created_at=now, expires_at=expires_at,
    )
    return raw, describe(token)


def authenticate(raw: str) -> Principal | None:
    """The principal for a raw token, or None when unknown, expired or revoked."""
    if len(raw) > 200:
        return None
    token = token_data.find_token_by_hash(hash_token(raw))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= clock.now():
        return None
    return Principal(
        token_id=token.id, name=token.name, role=token.role, enterprise_id=token.enterprise_id,
        enterprise_uscc=token.enterprise.uscc if token.enterprise else None,
    )


def list_tokens() -> list[dict[str, Any]]:
    return [describe(t) for t in token_data.list_tokens()]


def revoke_token(token_id: int) -> dict[str, Any]:
    token = token_data.find_token(token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id}")
    if token.revoked_at is None:
        token_data.revoke_token(token, clock.now())
    return describe(token)


def describe(token: Any) -> dict[str, Any]:
    now = clock.now()
    if token.revoked_at is not None:
        state = "revoked"
    elif token.expires_at is not None and token.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "id": token.id, "name": token.name, "role": token.role,
        "enterprise_uscc": token.enterprise.uscc if token.enterprise else None,
        "prefix": token.prefix, "state": state,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }
