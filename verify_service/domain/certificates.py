"""Certificate status rules (pure): the effective status and the allowed transitions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

STATUSES = ("valid", "suspended", "revoked", "expired", "cancelled")
STORED_STATUSES = ("valid", "suspended", "revoked", "cancelled")
TERMINAL = frozenset({"revoked", "cancelled"})


def effective_status(stored: str, valid_to: dt.date | None, today: dt.date) -> str:
    """The status a reader sees today.

    Revoked and cancelled are final whatever the dates; otherwise a certificate is
    ``expired`` from the day after ``valid_to`` (no job has to flip it).
    """
    if stored in TERMINAL:
        return stored
    if valid_to is not None and today > valid_to:
        return "expired"
    return stored


@dataclass(frozen=True)
class Transition:
    action: str
    to_status: str


#: action -> (statuses it may start from, stored status it leads to)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "suspend": (frozenset({"valid"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "valid"),
    "revoke": (frozenset({"valid", "suspended"}), "revoked"),
    "renew": (frozenset({"valid", "expired"}), "valid"),
    "cancel": (frozenset({"valid", "suspended", "expired"}), "cancelled"),
}


class IllegalTransition(Exception):
    """The requested status change is not allowed from the current status."""


def plan_transition(current: str, requested_status: str, renewing: bool) -> Transition:
    """Decide which action a requested target status means, or raise IllegalTransition.

    ``current`` is the effective status.  Asking for ``valid`` reinstates a suspended
    certificate and renews a valid or expired one when a new validity is given (``renewing``).
    """
    if requested_status == "expired":
        raise IllegalTransition("'expired' cannot be set: it follows from valid_to and today's date")
    if requested_status == "valid":
        if current == "suspended" and not renewing:
            action = "reinstate"
        elif current in ("valid", "expired"):
            action = "renew"
        elif current == "suspended":
            raise IllegalTransition("a suspended certificate must be reinstated before it is renewed")
        else:
            raise IllegalTransition(f"a {current} certificate cannot become valid again; issue a new certificate")
    else:
        action = {"suspended": "suspend", "revoked": "revoke", "cancelled": "cancel"}.get(requested_status, "")
        if not action:
            raise IllegalTransition(f"unknown status {requested_status!r}; use one of valid, suspended, revoked, cancelled")
    allowed_from, to_status = ACTIONS[action]
    if current not in allowed_from:
        raise IllegalTransition(
            f"cannot {action} a certificate that is {current} "
            f"(allowed from: {', '.join(sorted(allowed_from))})"
        )
    return Transition(action, to_status)
