"""Validation of the identifiers the registry holds (pure functions, no I/O).

Each ``check_*`` function returns the normalised identifier or raises ``ValueError`` with a
message fit to show a user.
"""

from __future__ import annotations

import datetime as dt
import re

# GB 32100-2015: the 31 characters of a unified social credit code (no I, O, Z, S, V).
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714-1997: the organisation code's check digit.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

#: GB/T 2260 province-level prefixes (the first two digits of every administrative code).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 "
    "64 65 71 81 82".split()
)

PROGRAMMES = ("green_food", "organic", "gi")


def uscc_check_char(first17: str) -> str:
    """The check character (18th) of a unified social credit code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The check character (9th) of a GB 11714 organisation code."""
    total = sum(_org_value(c) * w for c, w in zip(first8, ORG_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def _org_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - ord("A") + 10


def check_uscc(value: str) -> str:
    """Validate an 18-character unified social credit code, both check characters included."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValueError(f"a unified social credit code has 18 characters, not {len(code)}")
    bad = sorted({c for c in code if c not in USCC_CHARS})
    if bad:
        raise ValueError(f"character(s) {''.join(bad)!r} cannot appear in a unified social credit code")
    if not code[2:8].isdigit():
        raise ValueError("characters 3–8 of a unified social credit code are the administrative division code (digits)")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValueError(f"check character is {code[17]!r}, expected {expected!r}")
    org = code[8:17]
    if not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", org):
        raise ValueError("characters 9–17 are not a valid organisation code")
    if org_code_check_char(org[:8]) != org[8]:
        raise ValueError(
            f"embedded organisation code {org[:8]}-{org[8]} has a wrong check digit "
            f"(expected {org_code_check_char(org[:8])})"
        )
    return code


def make_uscc(category: str, county_code: str, org8: str) -> str:
    """Build a valid code (registration authority 9 = market regulation) — for demo data."""
    org = org8 + org_code_check_char(org8)
    first17 = "9" + category + county_code + org
    return first17 + uscc_check_char(first17)


def check_county_code(value: str) -> str:
    """A GB/T 2260 county-level administrative division code (6 digits)."""
    code = value.strip()
    if not re.fullmatch(r"\d{6}", code):
        raise ValueError("a county code (GB/T 2260) is 6 digits")
    if code[:2] not in PROVINCE_PREFIXES:
        raise ValueError(f"{code[:2]} is not a GB/T 2260 province code")
    if code[2:4] == "00" or code[4:] == "00":
        raise ValueError("a county code names a county-level division (its last four digits are not 00)")
    return code


def check_gf_code(value: str) -> str:
    """Green food enterprise information code: GF + county code + 2-digit year + 4-digit serial."""
    code = value.strip().upper()
    m = re.fullmatch(r"GF(\d{6})(\d{2})(\d{4})", code)
    if not m:
        raise ValueError("a GF code is 'GF' followed by 12 digits (county code, year, serial)")
    check_county_code(m.group(1))
    return code


GREEN_FOOD_RE = re.compile(r"LB-(\d{2})-(\d{2})(\d{2})(\d{2})(\d{4,5})(A|AA)")
# Organic certificate numbers: certification body code + "OP" + 2-digit year + 5-digit serial.
# Public sources disagree on separators, so an optional hyphen is accepted around "OP".
ORGANIC_RE = re.compile(r"(\d{3,5})-?OP-?(\d{2})(\d{5})")
GI_RE = re.compile(r"AGI(\d{5})")


def check_certificate_number(programme: str, value: str) -> str:
    """Validate a certificate number against its programme's format."""
    number = value.strip().upper()
    if programme == "green_food":
        m = GREEN_FOOD_RE.fullmatch(number)
        if not m:
            raise ValueError(
                "a green food product number looks like LB-15-1711196965A: "
                "LB-<class>-<YYMM><province><serial><A|AA>"
            )
        if not 1 <= int(m.group(3)) <= 12:
            raise ValueError(f"month {m.group(3)} in the product number is not 01–12")
    elif programme == "organic":
        if not ORGANIC_RE.fullmatch(number):
            raise ValueError("an organic certificate number is <body code>OP<YY><5-digit serial>, e.g. 110OP2100123")
    elif programme == "gi":
        if not GI_RE.fullmatch(number):
            raise ValueError("a GI registration number is AGI followed by 5 digits, e.g. AGI01459")
    else:
        raise ValueError(f"programme must be one of {', '.join(PROGRAMMES)}")
    return number


def programme_of(number: str) -> str | None:
    """Guess the programme from a certificate number's format."""
    n = number.strip().upper()
    if GREEN_FOOD_RE.fullmatch(n):
        return "green_food"
    if GI_RE.fullmatch(n):
        return "gi"
    if ORGANIC_RE.fullmatch(n):
        return "organic"
    return None


def green_food_grade(number: str) -> str | None:
    m = GREEN_FOOD_RE.fullmatch(number)
    return m.group(6) if m else None


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


#: Validity by programme, in years (None: long-term).
VALIDITY_YEARS: dict[str, int | None] = {"green_food": 3, "organic": 1, "gi": None}


def default_valid_to(programme: str, valid_from: dt.date) -> dt.date | None:
    """Last day of validity: green food 3 years, organic 1 year, GI long-term (None)."""
    years = VALIDITY_YEARS[programme]
    if years is None:
        return None
    return add_years(valid_from, years) - dt.timedelta(days=1)


#: GB/T 2260 provinces (codes and names), for region pickers and reports.
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"), "14": ("山西省", "Shanxi"),
    "15": ("内蒙古自治区", "Inner Mongolia"), "21": ("辽宁省", "Liaoning"), "22": ("吉林省", "Jilin"),
    "23": ("黑龙江省", "Heilongjiang"), "31": ("上海市", "Shanghai"), "32": ("江苏省", "Jiangsu"),
    "33": ("浙江省", "Zhejiang"), "34": ("安徽省", "Anhui"), "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"), "41": ("河南省", "Henan"), "42": ("湖北省", "Hubei"), "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"), "45": ("广西壮族自治区", "Guangxi"), "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"), "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"), "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Tibet"), "61": ("陕西省", "Shaanxi"), "62": ("甘肃省", "Gansu"), "63": ("青海省", "Qinghai"),
    "64": ("宁夏回族自治区", "Ningxia"), "65": ("新疆维吾尔自治区", "Xinjiang"), "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"), "82": ("澳门特别行政区", "Macao"),
}
