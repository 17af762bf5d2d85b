"""Valid sample inputs for tests (real formats, invented content)."""

from __future__ import annotations

import itertools
from typing import Any

from verify_service.domain.identifiers import make_uscc

_counter = itertools.count(1)


def uscc(county: str = "230184", category: str = "1") -> str:
    n = next(_counter)
    return make_uscc(category, county, f"{n:08d}")


def enterprise_body(**overrides: Any) -> dict[str, Any]:
    body = {"uscc": uscc(), "name": "五常市稻香米业有限公司", "county_code": "230184"}
    body.update(overrides)
    return body


def green_food_number(serial: int = 1234) -> str:
    return f"LB-03-2301231{serial:04d}A"


def certificate_body(enterprise_uscc: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": green_food_number(next(_counter) % 10000),
        "programme": "green_food",
        "enterprise_uscc": enterprise_uscc,
        "valid_from": "2025-01-01",
        "valid_to": "2027-12-31",
        "products": [{"name": "五常大米", "product_class": "03", "trademark": "稻香牌",
                      "approved_output": 500, "output_unit": "吨"}],
    }
    body.update(overrides)
    return body
