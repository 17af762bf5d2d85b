"""All SQL of the service.  Functions flush; they never commit."""

from __future__ import annotations

from typing import TypeVar

from verify_service.db import session

T = TypeVar("T")


def add(obj: T) -> T:
    """Add a new row and flush it (so its id is known)."""
    session().add(obj)
    session().flush()
    return obj


def flush() -> None:
    session().flush()


__all__ = ["add", "flush"]
