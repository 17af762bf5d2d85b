"""Build the OpenAPI 3 document from the URL map and what each view declares."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from verify_service.auth import access_rule_of

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}},
}


def build_openapi(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1") and not rule.rule.startswith("/.well-known"):
            continue
        view = app.view_functions[rule.endpoint]
        info = getattr(view, "openapi", {}) or {}
        access = access_rule_of(view)
        path = _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        params = [
            {"name": m.group(2), "in": "path", "required": True,
             "schema": {"type": "integer" if m.group(1) == "int" else "string"}}
            for m in _PARAM.finditer(rule.rule)
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": info.get("summary", rule.endpoint),
                "tags": [info.get("tag") or rule.endpoint.split(".")[0]],
                "responses": {},
            }
            if params:
                op["parameters"] = params
            if access is not None:
                op["x-access"] = access.describe()
                if not access.public:
                    op["security"] = [{"bearer": []}]
            body = info.get("body")
            if body is not None:
                schema = body.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in schema.pop("$defs", {}).items():
                    schemas[name] = sub
                schemas[body.__name__] = schema
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{body.__name__}"}}}}
            for status, text in (info.get("responses") or {200: "OK"}).items():
                op["responses"][str(status)] = {"description": text}
            error_statuses = ["400", "404", "422"] + ([] if access and access.public else ["401", "403"])
            for status in error_statuses:
                op["responses"].setdefault(status, {"description": "error", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Certified agri-product label verification service", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
