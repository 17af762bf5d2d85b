"""``registry import``: all or nothing, every bad row named by line, idempotent."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import REPO_ROOT
from tests.service.factories import uscc
from verify_service.db import session
from verify_service.models import Certificate, Enterprise, Product
from verify_service.services import importer

COLUMNS = importer.COLUMNS


def _row(i: int, **overrides: str) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    row.update({
        "enterprise_uscc": uscc(), "enterprise_name": f"五常市第{i}米业有限公司", "county_code": "230184",
        "certificate_number": f"LB-03-24032{i:05d}A", "programme": "green_food",
        "valid_from": "2024-03-01", "valid_to": "2027-02-28", "product_name": "五常大米",
        "approved_output": "100", "output_unit": "吨",
    })
    row.update(overrides)
    return row


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def _counts(run: Callable[..., Any]) -> tuple[int, int, int]:
    def q() -> tuple[int, int, int]:
        s = session()
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Enterprise, Certificate, Product))  # type: ignore[return-value]
    return run(q)


def _import(run: Callable[..., Any], content: bytes, fmt: str = "csv") -> importer.ImportSummary:
    return run(lambda: importer.import_rows(importer.read_rows(content, fmt), "test", "admin"))  # type: ignore[no-any-return]


def test_line_37_bad_credit_code_imports_nothing(app: Any, run: Callable[..., Any]) -> None:
    rows = [_row(i) for i in range(40)]
    # header is line 1, so rows[35] is on line 37
    rows[35]["enterprise_uscc"] = rows[35]["enterprise_uscc"][:-1] + ("0" if rows[35]["enterprise_uscc"][-1] != "0" else "1")
    with pytest.raises(importer.ImportFailed) as exc:
        _import(run, _csv(rows))
    assert [str(e) for e in exc.value.errors] == [
        f"line 37: enterprise_uscc: {exc.value.errors[0].message}"]
    assert "check character" in exc.value.errors[0].message
    assert _counts(run) == (0, 0, 0)


def test_every_bad_row_is_reported(app: Any, run: Callable[..., Any]) -> None:
    rows = [_row(i) for i in range(10)]
    rows[2]["county_code"] = "999999"
    rows[4]["valid_from"] = "2024-13-01"
    rows[6]["certificate_number"] = "LB-3-1"
    rows[8]["programme"] = "blue_food"
    with pytest.raises(importer.ImportFailed) as exc:
        _import(run, _csv(rows))
    got = [(e.line, e.field) for e in exc.value.errors]
    assert got == [(4, "county_code"), (6, "valid_from"), (8, None), (10, "programme")]
    assert _counts(run) == (0, 0, 0)


def test_import_twice_changes_nothing(app: Any, run: Callable[..., Any]) -> None:
    content = (REPO_ROOT / "examples" / "registry.csv").read_bytes()
    first = _import(run, content)
    assert (first.enterprises_created, first.certificates_created) == (3, 4)
    counts = _counts(run)
    assert counts == (3, 4, 5)
    from verify_service.services import audit
    audit_before = len(run(audit.list_entries))
    second = _import(run, content)
    assert (second.enterprises_created, second.enterprises_updated, second.certificates_created,
            second.certificates_updated) == (0, 0, 0, 0)
    assert _counts(run) == counts
    assert len(run(audit.list_entries)) == audit_before


def test_json_example_matches_csv_example(app: Any, run: Callable[..., Any]) -> None:
    _import(run, (REPO_ROOT / "examples" / "registry.json").read_bytes(), "json")
    assert _counts(run) == (3, 4, 5)
    again = _import(run, (REPO_ROOT / "examples" / "registry.csv").read_bytes())
    assert again.unchanged == 7


def test_json_errors_carry_line_numbers(app: Any, run: Callable[..., Any]) -> None:
    rows = [{k: v for k, v in _row(i).items() if v} for i in range(3)]
    rows[2]["county_code"] = "12"
    text = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]"
    with pytest.raises(importer.ImportFailed) as exc:
        _import(run, text.encode(), "json")
    assert [(e.line, e.field) for e in exc.value.errors] == [(4, "county_code")]
    with pytest.raises(importer.ImportFailed) as exc:
        _import(run, b'[\n{"enterprise_uscc": "x"},\n{oops}\n]', "json")
    assert exc.value.errors[0].line == 3


def test_update_through_import(app: Any, run: Callable[..., Any]) -> None:
    row = _row(1)
    _import(run, _csv([row]))
    row["enterprise_name"] = "五常市改名米业有限公司"
    row["approved_output"] = "250"
    s = _import(run, _csv([row, {**row, "product_name": "稻花香大米"}]))
    assert (s.enterprises_updated, s.certificates_updated) == (1, 1)
    assert _counts(run) == (1, 1, 2)


def test_rows_that_disagree_are_refused(app: Any, run: Callable[..., Any]) -> None:
    a = _row(1)
    b = {**a, "enterprise_name": "另一个名字", "product_name": "稻花香大米"}
    c = {**a, "valid_to": "2027-01-31", "product_name": "鲜食玉米"}
    d = {**a}
    with pytest.raises(importer.ImportFailed) as exc:
        _import(run, _csv([a, b, c, d]))
    assert [(e.line, e.field) for e in exc.value.errors] == [
        (3, "enterprise_name"), (4, "valid_to"), (5, "product_name")]


def test_certificate_of_another_enterprise_is_refused(app: Any, run: Callable[..., Any]) -> None:
    a = _row(1)
    _import(run, _csv([a]))
    b = _row(2, certificate_number=a["certificate_number"])
    with pytest.raises(importer.ImportFailed) as exc:
        _import(run, _csv([b]))
    assert exc.value.errors[0].line == 2 and "belongs to" in exc.value.errors[0].message
    assert _counts(run) == (1, 1, 1)


@pytest.mark.parametrize("content,fmt,message", [
    (b"", "csv", "empty"),
    (b"\xff\xfe\x00x", "csv", "UTF-8"),
    (b"enterprise_uscc,colour\n", "csv", "unknown column"),
    (b"enterprise_name,county_code\n", "csv", "required column"),
    (b'{"rows": []}', "json", "array"),
    (b"[1]", "json", "object"),
    (b"[] trailing", "json", "JSON"),
    (b"a,b", "xlsx", "unknown format"),
])
def test_bad_files(app: Any, run: Callable[..., Any], content: bytes, fmt: str, message: str) -> None:
    with pytest.raises(importer.ImportFailed) as exc:
        _import(run, content, fmt)
    assert message in str(exc.value.details)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400), st.sampled_from(["csv", "json"]))
def test_arbitrary_text_never_crashes(app: Any, text: str, fmt: str) -> None:
    header = ",".join(COLUMNS) + "\n" if fmt == "csv" else ""
    with app.app_context():
        try:
            importer.import_rows(importer.read_rows((header + text).encode("utf-8"), fmt), "t", "admin")
        except importer.ImportFailed as exc:
            assert all(isinstance(e.line, int) and e.line >= 1 for e in exc.errors)
        finally:
            session().rollback()


def test_cli_import_reports_lines_and_exit_status(app: Any, tmp_path: Path) -> None:
    rows = [_row(i) for i in range(3)]
    rows[1]["enterprise_uscc"] = "123"
    f = tmp_path / "bad.csv"
    f.write_bytes(_csv(rows))
    result = app.test_cli_runner().invoke(args=["registry", "import", str(f)])
    assert result.exit_code == 1
    assert "line 3: enterprise_uscc" in result.output and "nothing was imported" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(_csv([_row(7)]))
    result = app.test_cli_runner().invoke(args=["registry", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "certificates 1 created" in result.output
