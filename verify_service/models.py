"""Typed SQLAlchemy models.  Only ``data/`` functions and migrations use them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    LargeBinary,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    gf_code: Mapped[Optional[str]] = mapped_column(String(14), unique=True)
    address: Mapped[Optional[str]] = mapped_column(String(300))
    contact_name: Mapped[Optional[str]] = mapped_column(String(100))
    contact_phone: Mapped[Optional[str]] = mapped_column(String(40))
    poverty_exit_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    platform_entity_code: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    certificates: Mapped[list["Certificate"]] = relationship(back_populates="enterprise")


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    programme: Mapped[str] = mapped_column(String(16), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    grade: Mapped[Optional[str]] = mapped_column(String(2))
    issuer: Mapped[Optional[str]] = mapped_column(String(200))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    # None: long-term (GI registrations).
    valid_to: Mapped[Optional[dt.date]] = mapped_column(Date)
    # Stored status is one of valid, suspended, revoked, cancelled; ``expired`` is derived
    # from valid_to at read time.
    status: Mapped[str] = mapped_column(String(16))
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise] = relationship(back_populates="certificates")
    products: Mapped[list["Product"]] = relationship(
        back_populates="certificate", order_by="Product.id"
    )
    status_events: Mapped[list["CertificateStatusEvent"]] = relationship(
        back_populates="certificate", order_by="CertificateStatusEvent.id"
    )


class CertificateStatusEvent(Base):
    """One entry of a certificate's status history (append-only)."""

    __tablename__ = "certificate_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[Optional[str]] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    valid_to: Mapped[Optional[dt.date]] = mapped_column(Date)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    certificate: Mapped[Certificate] = relationship(back_populates="status_events")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("certificate_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    product_class: Mapped[Optional[str]] = mapped_column(String(40))
    trademark: Mapped[Optional[str]] = mapped_column(String(100))
    approved_output: Mapped[Optional[Decimal]] = mapped_column(Numeric(16, 3))
    output_unit: Mapped[Optional[str]] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    certificate: Mapped[Certificate] = relationship(back_populates="products")


class GiAuthorisation(Base):
    """A GI authorised user's yearly usage agreement (quantity and scope)."""

    __tablename__ = "gi_authorisations"
    __table_args__ = (UniqueConstraint("certificate_id", "enterprise_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    unit: Mapped[str] = mapped_column(String(16))
    scope: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    certificate: Mapped[Certificate] = relationship()
    enterprise: Mapped[Enterprise] = relationship()


class ApiToken(Base):
    """A bearer token: only its SHA-256 hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[Optional[int]] = mapped_column(ForeignKey("enterprises.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)

    enterprise: Mapped[Optional[Enterprise]] = relationship()


class AuditEntry(Base):
    """Append-only log of every admin and regulator action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)



class SigningKey(Base):
    """An Ed25519 label signing key (label_gen.KeyRecord); the private key is stored encrypted."""

    __tablename__ = "signing_keys"

    key_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64))
    encrypted_private_key: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)


class SerialCounter(Base):
    """The next free label serial (one row): allocation is one atomic UPDATE."""

    __tablename__ = "serial_counters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_serial: Mapped[int] = mapped_column(BigInteger)


class LabelBatch(Base):
    """A run of labels: a serial range, not one row per label."""

    __tablename__ = "label_batches"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "idempotency_key"),
        Index("ix_label_batches_serials", "first_serial", "last_serial"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.key_id"))
    quantity: Mapped[int] = mapped_column(Integer)
    first_serial: Mapped[int] = mapped_column(BigInteger)
    last_serial: Mapped[int] = mapped_column(BigInteger)
    pins: Mapped[bool] = mapped_column(default=False)
    label_format: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    # Optional attributes used by the misuse signals.
    sales_region: Mapped[Optional[str]] = mapped_column(String(6))
    shelf_life_days: Mapped[Optional[int]] = mapped_column(Integer)
    release_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    idempotency_key: Mapped[Optional[str]] = mapped_column(String(100))
    request_fingerprint: Mapped[Optional[str]] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    voided_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    void_reason: Mapped[Optional[str]] = mapped_column(Text)
    voided_by: Mapped[Optional[str]] = mapped_column(String(100))

    certificate: Mapped[Certificate] = relationship()
    product: Mapped[Product] = relationship()
    enterprise: Mapped[Enterprise] = relationship()


class Label(Base):
    """Per-label state, created only for labels with history (scanned, voided, PIN used)."""

    __tablename__ = "labels"

    serial: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Not indexed: nothing looks labels up by batch, and every first scan inserts a row here.
    batch_id: Mapped[int] = mapped_column(ForeignKey("label_batches.id"))
    scan_count: Mapped[int] = mapped_column(Integer, default=0)
    first_scan_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    last_scan_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    voided_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    void_reason: Mapped[Optional[str]] = mapped_column(Text)
    voided_by: Mapped[Optional[str]] = mapped_column(String(100))
    pin_used_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)
    pin_use_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked_until: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime)


class Scan(Base):
    """One verification (scan page, API or CLI).  Never holds the raw client address."""

    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_serial_at", "serial", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    serial: Mapped[Optional[int]] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    verdict: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))
    network: Mapped[Optional[str]] = mapped_column(String(48))
    user_agent: Mapped[Optional[str]] = mapped_column(String(32))
    latitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 2))
    longitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 2))
    #: GB/T 2260 code prefix of where the user says they are (consented), e.g. "31" Shanghai.
    region: Mapped[Optional[str]] = mapped_column(String(6))
    #: Not indexed: scans are found by label (serial) or by time; each index costs every scan a write.
    batch_id: Mapped[Optional[int]] = mapped_column(Integer)


class Alert(Base):
    """A label whose scan history shows misuse, with the evidence; one per label."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("label_batches.id"), index=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    province: Mapped[str] = mapped_column(String(2), index=True)
    programme: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column()
    signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # open, confirmed, dismissed
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[Optional[str]] = mapped_column(String(100))
    note: Mapped[Optional[str]] = mapped_column(Text)

    certificate: Mapped[Certificate] = relationship()
    enterprise: Mapped[Enterprise] = relationship()


class Report(Base):
    """A consumer's report of a suspected fake, handled as a case by regulators."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[Optional[int]] = mapped_column(BigInteger, index=True)
    code_text: Mapped[Optional[str]] = mapped_column(String(300))
    verdict: Mapped[Optional[str]] = mapped_column(String(24))
    certificate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("certificates.id"), index=True)
    enterprise_id: Mapped[Optional[int]] = mapped_column(ForeignKey("enterprises.id"), index=True)
    province: Mapped[Optional[str]] = mapped_column(String(2), index=True)
    text: Mapped[str] = mapped_column(Text)
    region: Mapped[Optional[str]] = mapped_column(String(6))
    latitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 2))
    longitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(6, 2))
    contact: Mapped[Optional[str]] = mapped_column(String(100))
    photo: Mapped[Optional[bytes]] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[Optional[str]] = mapped_column(String(16))
    network: Mapped[Optional[str]] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    certificate: Mapped[Optional[Certificate]] = relationship()
    enterprise: Mapped[Optional[Enterprise]] = relationship()
    events: Mapped[list["ReportEvent"]] = relationship(order_by="ReportEvent.id")


class ReportEvent(Base):
    """A step of a report's case: status change or note (append-only)."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    from_status: Mapped[Optional[str]] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[Optional[str]] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RateLimitCounter(Base):
    """Fixed-window counters shared by every process (the rate limiter's storage)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column()

import verify_service.push.models  # noqa: E402,F401  (puts the push tables on Base.metadata)
