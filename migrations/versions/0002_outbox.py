"""traceability push: outbox and expiry-sweep markers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from verify_service.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("record_schema", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("platform_ref", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("parked_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_push_outbox_idempotency_key")),
    )
    with op.batch_alter_table("push_outbox") as batch_op:
        batch_op.create_index(batch_op.f("ix_push_outbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_push_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_push_outbox_subject", ["kind", "key"], unique=False)

    op.create_table(
        "push_expiry_marks",
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("emitted_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"], ["certificates.id"],
            name=op.f("fk_push_expiry_marks_certificate_id_certificates"),
        ),
        sa.PrimaryKeyConstraint("certificate_id", "valid_to", name=op.f("pk_push_expiry_marks")),
    )


def downgrade() -> None:
    op.drop_table("push_expiry_marks")
    with op.batch_alter_table("push_outbox") as batch_op:
        batch_op.drop_index("ix_push_outbox_subject")
        batch_op.drop_index("ix_push_outbox_due")
        batch_op.drop_index(batch_op.f("ix_push_outbox_created_at"))
    op.drop_table("push_outbox")
