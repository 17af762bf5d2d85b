"""Input shapes for the API and imports (pydantic), with the domain validators wired in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from verify_service.domain import identifiers as ids

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptText = Optional[Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]]
Uscc = Annotated[str, AfterValidator(ids.check_uscc)]
CountyCode = Annotated[str, AfterValidator(ids.check_county_code)]
GfCode = Annotated[str, AfterValidator(ids.check_gf_code)]
Programme = Literal["green_food", "organic", "gi"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EnterpriseIn(Strict):
    uscc: Uscc
    name: Text
    county_code: CountyCode
    gf_code: Optional[GfCode] = None
    address: OptText = None
    contact_name: OptText = None
    contact_phone: Optional[Annotated[str, StringConstraints(pattern=r"^[0-9+\- ()]{5,40}$")]] = None
    poverty_exit_date: Optional[dt.date] = None


class EnterpriseChange(Strict):
    """PATCH body: only the fields given change (the credit code never does)."""

    name: Optional[Text] = None
    county_code: Optional[CountyCode] = None
    gf_code: Optional[GfCode] = None
    address: OptText = None
    contact_name: OptText = None
    contact_phone: Optional[Annotated[str, StringConstraints(pattern=r"^[0-9+\- ()]{5,40}$")]] = None
    poverty_exit_date: Optional[dt.date] = None


class ProductIn(Strict):
    name: Text
    product_class: OptText = None
    trademark: OptText = None
    approved_output: Optional[Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), decimal_places=3)]] = None
    output_unit: Optional[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]] = None

    @model_validator(mode="after")
    def _unit_with_output(self) -> "ProductIn":
        if self.approved_output is not None and not self.output_unit:
            self.output_unit = "吨"  # the programmes approve yearly output in tonnes by default
        return self


class CertificateIn(Strict):
    number: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=40)]
    programme: Programme
    enterprise_uscc: Uscc
    valid_from: dt.date
    valid_to: Optional[dt.date] = None
    grade: Optional[Literal["A", "AA"]] = None
    issuer: OptText = None
    products: Annotated[list[ProductIn], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _check(self) -> "CertificateIn":
        self.number = ids.check_certificate_number(self.programme, self.number)
        if self.valid_to is None:
            self.valid_to = ids.default_valid_to(self.programme, self.valid_from)
        elif self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        if self.programme == "green_food":
            grade = ids.green_food_grade(self.number)
            if self.grade is not None and self.grade != grade:
                raise ValueError(f"grade {self.grade} disagrees with the product number's grade {grade}")
            self.grade = grade
        elif self.grade is not None:
            raise ValueError("only green food certificates have a grade (A or AA)")
        names = [p.name for p in self.products]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"product name(s) listed twice: {', '.join(dupes)}")
        return self


class StatusChangeIn(Strict):
    status: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=16)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    valid_to: Optional[dt.date] = None


class GiAuthorisationIn(Strict):
    enterprise_uscc: Uscc
    year: Annotated[int, Field(ge=2000, le=2100)]
    quantity: Annotated[Decimal, Field(gt=0, le=Decimal("1e12"), decimal_places=3)]
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)] = "吨"
    scope: OptText = None


def error_list(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``[{"field", "message"}]`` with dotted field paths."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        out.append({"field": loc or None, "message": msg})
    return out


class BatchOrderIn(Strict):
    certificate_number: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=40)]
    product_id: Annotated[int, Field(ge=1)]
    quantity: Annotated[int, Field(ge=1, le=10_000_000)]
    pins: bool = False
    label_format: Optional[Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,16}$")]] = None
    #: intended sales region: a GB/T 2260 province (2 digits), prefecture (4) or county (6) code
    sales_region: Optional[Annotated[str, StringConstraints(pattern=r"^\d{2}(\d{2}){0,2}$")]] = None
    shelf_life_days: Optional[Annotated[int, Field(ge=1, le=3650)]] = None
    release_date: Optional[dt.date] = None


class VoidIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class PinCheckIn(Strict):
    serial: Annotated[int, Field(ge=1, le=2**40 - 1)]
    pin: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{4,12}$")]


class ReportIn(Strict):
    code: Optional[Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048)]] = None
    serial: Optional[Annotated[int, Field(ge=1, le=2**40 - 1)]] = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    region: Optional[Annotated[str, StringConstraints(pattern=r"^\d{2}(\d{2}){0,2}$")]] = None
    lat: Optional[Annotated[float, Field(ge=-90, le=90)]] = None
    lon: Optional[Annotated[float, Field(ge=-180, le=180)]] = None
    contact: Optional[Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]] = None


class ReportChange(Strict):
    status: Optional[Literal["open", "investigating", "confirmed_fake", "dismissed"]] = None
    note: Optional[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]] = None

    @model_validator(mode="after")
    def _something(self) -> "ReportChange":
        if self.status is None and self.note is None:
            raise ValueError("give a status, a note, or both")
        return self


class AlertChange(Strict):
    status: Literal["confirmed", "dismissed"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
