"""Access rules: every /api/v1 route declares one; requests are checked before the view runs.

A route without a declared rule is refused (default deny), and a test walks the URL map to
make sure no route relies on that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from flask import Flask, current_app, g, request

from verify_service.errors import Forbidden, Unauthorized
from verify_service.services import tokens as token_service
from verify_service.services.tokens import Principal

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("admin", "regulator", "enterprise")


@dataclass(frozen=True)
class AccessRule:
    public: bool
    roles: tuple[str, ...] = ()

    def describe(self) -> str:
        return "public" if self.public else "bearer token with role " + " or ".join(self.roles)


def public(view: F) -> F:
    """Anyone may call this route."""
    view.access_rule = AccessRule(public=True)  # type: ignore[attr-defined]
    return view


def require_role(*roles: str) -> Callable[[F], F]:
    """Only a bearer token of one of ``roles`` may call this route."""
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")

    def decorate(view: F) -> F:
        view.access_rule = AccessRule(public=False, roles=tuple(roles))  # type: ignore[attr-defined]
        return view

    return decorate


def access_rule_of(view: Callable[..., Any] | None) -> AccessRule | None:
    return getattr(view, "access_rule", None)


def current_principal() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise Unauthorized("authentication required")
    return principal


def _check_access() -> None:
    if request.endpoint is None:
        return  # 404/405 follow
    view = current_app.view_functions.get(request.endpoint)
    rule = access_rule_of(view)
    if rule is None:
        if request.path.startswith("/api/"):
            raise Forbidden("this route declares no access rule", code="no_access_rule")
        return
    if rule.public:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    principal = token_service.authenticate(raw.strip())
    if principal is None:
        raise Unauthorized("invalid, expired or revoked token")
    if principal.role not in rule.roles:
        raise Forbidden(f"this route needs a token with role {' or '.join(rule.roles)}; yours is {principal.role}")
    g.principal = principal


def init_app(app: Flask) -> None:
    app.before_request(_check_access)
