"""Tables of the traceability push: the outbox and the expiry-sweep markers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from verify_service.models import Base, UTCDateTime

#: Outbox record states.  ``pending`` covers both "due" and "leased to a worker"
#: (``next_attempt_at`` in the future); ``sent`` means acknowledged by the platform.
PENDING, SENT, PARKED = "pending", "sent", "parked"


class OutboxRecord(Base):
    """One change the platform must learn about, written in the change's own transaction."""

    __tablename__ = "push_outbox"
    __table_args__ = (
        # The claim query: due pending records in id order.
        Index("ix_push_outbox_due", "status", "next_attempt_at"),
        Index("ix_push_outbox_subject", "kind", "key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: Sent with the record; the platform de-duplicates on it, so re-sending is always safe.
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    #: The subject's natural key: credit code, certificate number, batch id, serial.
    key: Mapped[str] = mapped_column(String(64))
    record_schema: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    #: Claims so far (a claim counts even if the worker dies before it can report back).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When a worker may next claim it; a claim moves it forward by the lease time, so a
    #: worker that dies mid-send simply lets its lease run out.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Claim token of the worker holding the lease (only it may settle the record).
    lease_owner: Mapped[Optional[str]] = mapped_column(String(64))
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    #: What the platform returned on acknowledgement (an entity code for registrations).
    platform_ref: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    parked_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)


class ExpiryMark(Base):
    """A certificate validity end already reported as ``certificate.expired``.

    Keyed by the ``valid_to`` too, so a certificate renewed and expired again is reported again.
    """

    __tablename__ = "push_expiry_marks"

    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), primary_key=True)
    valid_to: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    emitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
