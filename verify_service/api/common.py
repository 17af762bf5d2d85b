"""Helpers shared by the blueprints: body parsing and the OpenAPI description of a view."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from verify_service.errors import ValidationFailed
from verify_service.schemas import error_list

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])


def parse_body(model: type[M]) -> M:
    """The request's JSON body validated as ``model``, or a 4xx with every problem listed."""
    if not request.is_json:
        raise ValidationFailed("send a JSON body with Content-Type: application/json", code="not_json")
    payload = request.get_json(silent=True)
    if payload is None:
        raise ValidationFailed("the body is not valid JSON", code="invalid_json")
    if not isinstance(payload, dict):
        raise ValidationFailed("the body must be a JSON object", code="invalid_json")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = error_list(exc)
        first = problems[0]
        where = f"{first['field']}: " if first["field"] else ""
        raise ValidationFailed(f"{where}{first['message']}", details=problems) from None


def query_int(name: str, default: int, *, minimum: int = 0, maximum: int = 10_000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"query parameter {name} must be an integer") from None
    if not minimum <= value <= maximum:
        raise ValidationFailed(f"query parameter {name} must be between {minimum} and {maximum}")
    return value


def doc(summary: str, *, body: type[BaseModel] | None = None, responses: dict[int, str] | None = None,
        tag: str | None = None) -> Callable[[F], F]:
    """Describe a view for the OpenAPI document."""

    def decorate(view: F) -> F:
        view.openapi = {"summary": summary, "body": body, "responses": responses or {200: "OK"}, "tag": tag}  # type: ignore[attr-defined]
        return view

    return decorate


def audit_log_page() -> dict[str, Any]:
    """The audit log, newest first, filtered by the query string (shared by admin and regulator)."""
    from verify_service.services import audit

    return {"entries": audit.list_entries(
        target_type=request.args.get("target_type") or None,
        target_id=request.args.get("target_id") or None,
        before_id=query_int("before_id", 0, maximum=2**62) or None,
        limit=query_int("limit", 100, minimum=1, maximum=1000),
    )}
