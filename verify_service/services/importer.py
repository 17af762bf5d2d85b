"""``registry import``: enterprises, certificates and products from CSV or JSON, all or nothing.

Every row is validated before anything is written; any bad row makes the whole import fail
with every problem listed by line number and field.  Importing the same file twice changes
nothing the second time (rows are upserts keyed by credit code, certificate number and
product name; certificate status is never touched by an import).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from pydantic import ValidationError

from verify_service.errors import ServiceError, ValidationFailed
from verify_service.schemas import CertificateIn, EnterpriseIn, error_list
from verify_service.services import audit, registry

ENTERPRISE_COLUMNS = {
    "enterprise_uscc": "uscc", "enterprise_name": "name", "county_code": "county_code",
    "gf_code": "gf_code", "address": "address", "contact_name": "contact_name",
    "contact_phone": "contact_phone", "poverty_exit_date": "poverty_exit_date",
}
CERTIFICATE_COLUMNS = {
    "certificate_number": "number", "programme": "programme", "grade": "grade", "issuer": "issuer",
    "valid_from": "valid_from", "valid_to": "valid_to",
}
PRODUCT_COLUMNS = {
    "product_name": "name", "product_class": "product_class", "trademark": "trademark",
    "approved_output": "approved_output", "output_unit": "output_unit",
}
COLUMNS = [*ENTERPRISE_COLUMNS, *CERTIFICATE_COLUMNS, *PRODUCT_COLUMNS]
REQUIRED_COLUMNS = ("enterprise_uscc", "enterprise_name", "county_code")
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class RowError:
    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field + ': ' if self.field else ''}{self.message}"


class ImportFailed(ValidationFailed):
    code = "import_failed"

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was imported", details=[str(e) for e in errors])
        self.errors = errors


@dataclass
class ImportSummary:
    rows: int = 0
    enterprises_created: int = 0
    enterprises_updated: int = 0
    certificates_created: int = 0
    certificates_updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def read_rows(content: bytes, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs from a CSV or JSON file; raises ImportFailed on bad framing."""
    if len(content) > MAX_FILE_BYTES:
        raise ImportFailed([RowError(1, None, f"file larger than {MAX_FILE_BYTES // 2**20} MiB")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ImportFailed([RowError(line, None, "not UTF-8 text (save the file as UTF-8)")]) from None
    if fmt == "csv":
        return _csv_rows(text)
    if fmt == "json":
        return _json_rows(text)
    raise ImportFailed([RowError(1, None, f"unknown format {fmt!r}: use csv or json")])


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ImportFailed([RowError(1, None, "the file is empty")]) from None
    except csv.Error as exc:
        raise ImportFailed([RowError(1, None, f"CSV error: {exc}")]) from None
    _check_columns(header)
    rows = []
    try:
        line = reader.line_num + 1
        for values in reader:
            if any(v.strip() for v in values):
                if len(values) != len(header):
                    raise ImportFailed([RowError(line, None, f"{len(values)} fields, the header has {len(header)}")])
                rows.append((line, dict(zip(header, values))))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFailed([RowError(line, None, f"CSV error: {exc}")]) from None
    return iter(rows)


def _json_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """A JSON array of row objects; each row's line number is where its object starts."""
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "[":
        raise ImportFailed([RowError(text.count("\n", 0, pos) + 1, None, "expected a JSON array of row objects")])
    pos = _skip_ws(text, pos + 1)
    rows: list[tuple[int, dict[str, Any]]] = []
    if pos < len(text) and text[pos] == "]":
        if _skip_ws(text, pos + 1) != len(text):
            raise ImportFailed([RowError(text.count("\n", 0, pos) + 1, None, "text after the closing ] of the JSON array")])
        return iter(rows)
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ImportFailed([RowError(exc.lineno, None, f"invalid JSON: {exc.msg}")]) from None
        if not isinstance(value, dict):
            raise ImportFailed([RowError(line, None, "each row must be a JSON object")])
        _check_columns(list(value), line, required=())  # blank fields may be left out
        rows.append((line, {k: ("" if v is None else v) for k, v in value.items()}))
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if _skip_ws(text, pos + 1) != len(text):
                raise ImportFailed([RowError(text.count("\n", 0, pos) + 1, None, "text after the closing ] of the JSON array")])
            return iter(rows)
        raise ImportFailed([RowError(text.count("\n", 0, pos) + 1, None, "expected ',' or ']' between rows")])


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _check_columns(columns: list[str], line: int = 1, required: tuple[str, ...] = REQUIRED_COLUMNS) -> None:
    unknown = [c for c in columns if c not in COLUMNS]
    missing = [c for c in required if c not in columns]
    problems = [RowError(line, c, "unknown column") for c in unknown]
    problems += [RowError(line, c, "required column missing") for c in missing]
    if problems:
        raise ImportFailed(problems)


def _blank_to_none(row: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    out = {}
    for column, name in mapping.items():
        value = row.get(column, "")
        if isinstance(value, str):
            value = value.strip()
        if value != "":
            out[name] = value
    return out


@dataclass
class _ParsedRow:
    line: int
    enterprise: EnterpriseIn
    certificate: CertificateIn | None


def _parse_row(line: int, row: dict[str, Any], errors: list[RowError]) -> _ParsedRow | None:
    ok = True
    enterprise = certificate = None
    try:
        enterprise = EnterpriseIn.model_validate(_blank_to_none(row, ENTERPRISE_COLUMNS))
    except ValidationError as exc:
        ok = False
        errors += [RowError(line, _column(e["field"], ENTERPRISE_COLUMNS), e["message"]) for e in error_list(exc)]
    cert_fields = _blank_to_none(row, CERTIFICATE_COLUMNS)
    product_fields = _blank_to_none(row, PRODUCT_COLUMNS)
    if cert_fields or product_fields:
        try:
            certificate = CertificateIn.model_validate({
                **cert_fields, "enterprise_uscc": str(row.get("enterprise_uscc", "")).strip(),
                "products": [product_fields],
            })
        except ValidationError as exc:
            ok = False
            for e in error_list(exc):
                if e["field"] == "enterprise_uscc":
                    continue  # already reported for the enterprise
                errors.append(RowError(line, _column(e["field"], {**CERTIFICATE_COLUMNS, **PRODUCT_COLUMNS}), e["message"]))
    if not ok or enterprise is None:
        return None
    return _ParsedRow(line, enterprise, certificate)


def _column(field_path: str | None, mapping: dict[str, str]) -> str | None:
    if not field_path:
        return None
    if field_path.startswith("products.0."):
        name = field_path.removeprefix("products.0.")
        return next((c for c, n in PRODUCT_COLUMNS.items() if n == name), field_path)
    if field_path == "products.0":
        return "product_name"
    return next((c for c, n in mapping.items() if n == field_path), field_path)


def import_rows(rows: Iterator[tuple[int, dict[str, Any]]], actor: str, role: str) -> ImportSummary:
    """Validate every row, then write all of them; raise ImportFailed (writing nothing) on any problem."""
    errors: list[RowError] = []
    parsed = [p for line, row in rows if (p := _parse_row(line, row, errors)) is not None]
    summary = ImportSummary(rows=len(parsed) + len({e.line for e in errors}))

    # Rows naming the same enterprise or certificate must agree with each other.
    enterprises: dict[str, _ParsedRow] = {}
    certificates: dict[str, tuple[_ParsedRow, CertificateIn]] = {}
    for p in parsed:
        first = enterprises.setdefault(p.enterprise.uscc, p)
        if first.enterprise != p.enterprise:
            diff = [k for k in EnterpriseIn.model_fields if getattr(first.enterprise, k) != getattr(p.enterprise, k)]
            column = next(c for c, n in ENTERPRISE_COLUMNS.items() if n == diff[0])
            errors.append(RowError(p.line, column, f"differs from line {first.line} for the same enterprise"))
        if p.certificate is None:
            continue
        c = p.certificate
        if c.number not in certificates:
            certificates[c.number] = (p, c.model_copy(update={"products": list(c.products)}))
            continue
        first_row, merged = certificates[c.number]
        for key in ("programme", "enterprise_uscc", "valid_from", "valid_to", "grade", "issuer"):
            if getattr(merged, key) != getattr(c, key):
                errors.append(RowError(p.line, _column(key, CERTIFICATE_COLUMNS) or key,
                                       f"differs from line {first_row.line} for certificate {c.number}"))
                break
        else:
            if any(prod.name == c.products[0].name for prod in merged.products):
                errors.append(RowError(p.line, "product_name", f"product listed twice for certificate {c.number}"))
            else:
                merged.products.append(c.products[0])
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.line))

    outcomes: dict[str, int] = {}
    for p in enterprises.values():
        try:
            outcome = registry.upsert_enterprise(p.enterprise)
        except ServiceError as exc:
            errors.append(RowError(p.line, None, exc.message))
            continue
        outcomes["enterprise_" + outcome] = outcomes.get("enterprise_" + outcome, 0) + 1
    for first_row, c in certificates.values():
        if errors:
            break  # an enterprise failed: the certificates would only repeat it
        try:
            outcome = registry.upsert_certificate(c, actor)
        except ServiceError as exc:
            errors.append(RowError(first_row.line, "certificate_number", exc.message))
            continue
        outcomes["certificate_" + outcome] = outcomes.get("certificate_" + outcome, 0) + 1
    if errors:
        raise ImportFailed(errors)
    summary.enterprises_created = outcomes.get("enterprise_created", 0)
    summary.enterprises_updated = outcomes.get("enterprise_updated", 0)
    summary.certificates_created = outcomes.get("certificate_created", 0)
    summary.certificates_updated = outcomes.get("certificate_updated", 0)
    summary.unchanged = outcomes.get("enterprise_unchanged", 0) + outcomes.get("certificate_unchanged", 0)
    if summary.enterprises_created or summary.enterprises_updated or summary.certificates_created or summary.certificates_updated:
        audit.record(actor, role, "registry.import", "registry", "import",
                     enterprises_created=summary.enterprises_created,
                     enterprises_updated=summary.enterprises_updated,
                     certificates_created=summary.certificates_created,
                     certificates_updated=summary.certificates_updated)
    return summary

