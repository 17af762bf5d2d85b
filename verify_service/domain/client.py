"""What a scan may keep about its client: a coarse network, a user-agent family, a coarse place.

The raw address never reaches the database: IPv4 is cut to its /24, IPv6 to its /48.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class ClientInfo:
    network: str | None = None
    user_agent: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    #: GB/T 2260 code (2, 4 or 6 digits) of where the user says they are, with consent
    region: str | None = None


@functools.lru_cache(maxsize=4096)  # every scan asks; clients repeat
def coarse_network(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) holding ``address``; None when it is not an address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


_UA_FAMILIES = (
    ("wechat", re.compile(r"MicroMessenger", re.I)),
    ("alipay", re.compile(r"AlipayClient", re.I)),
    ("dingtalk", re.compile(r"DingTalk", re.I)),
    ("qq", re.compile(r"\bQQ/", re.I)),
    ("harmonyos", re.compile(r"HarmonyOS|OpenHarmony", re.I)),
    ("ios", re.compile(r"iPhone|iPad|iPod", re.I)),
    ("android", re.compile(r"Android", re.I)),
    ("cli", re.compile(r"^(curl|wget|python|label)", re.I)),
    ("desktop", re.compile(r"Windows NT|Macintosh|X11|Linux x86_64", re.I)),
)


@functools.lru_cache(maxsize=1024)
def user_agent_family(user_agent: str | None) -> str | None:
    """A coarse family (``wechat``, ``ios``, ``android``, …), never the full string."""
    if not user_agent:
        return None
    for family, pattern in _UA_FAMILIES:
        if pattern.search(user_agent[:512]):
            return family
    return "other"


_TENTH = Decimal("0.1")


def coarse_location(latitude: object, longitude: object) -> tuple[Decimal, Decimal] | None:
    """Round a consented position to 0.1° (about 11 km); None unless both are valid numbers."""
    try:
        lat = Decimal(str(latitude))
        lon = Decimal(str(longitude))
    except Exception:  # noqa: BLE001 - any unparsable value means "no location"
        return None
    if not (lat.is_finite() and lon.is_finite()) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat.quantize(_TENTH, ROUND_HALF_UP), lon.quantize(_TENTH, ROUND_HALF_UP)


def check_region(value: object) -> str | None:
    """A GB/T 2260 province (2 digits), prefecture (4) or county (6) code, else None."""
    if not isinstance(value, str):
        return None
    code = value.strip()
    if re.fullmatch(r"\d{2}(\d{2}){0,2}", code) and code[:2] != "00":
        return code
    return None
