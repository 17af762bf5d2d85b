"""Signing keys, label batches (serial ranges), per-label state and scans

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import verify_service.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('serial', sa.BigInteger(), nullable=True),
    sa.Column('at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verdict', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('network', sa.String(length=48), nullable=True),
    sa.Column('user_agent', sa.String(length=32), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scans'))
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scans_at'), ['at'], unique=False)
        batch_op.create_index('ix_scans_serial_at', ['serial', 'at'], unique=False)

    op.create_table('serial_counters',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('next_serial', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_serial_counters'))
    )
    op.create_table('signing_keys',
    sa.Column('key_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('encrypted_private_key', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_from', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_signing_keys'))
    )
    op.create_table('label_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('first_serial', sa.BigInteger(), nullable=False),
    sa.Column('last_serial', sa.BigInteger(), nullable=False),
    sa.Column('pins', sa.Boolean(), nullable=False),
    sa.Column('label_format', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sales_region', sa.String(length=6), nullable=True),
    sa.Column('shelf_life_days', sa.Integer(), nullable=True),
    sa.Column('release_date', sa.Date(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('voided_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.Column('voided_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_label_batches_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_label_batches_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['key_id'], ['signing_keys.key_id'], name=op.f('fk_label_batches_key_id_signing_keys')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_label_batches_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_batches')),
    sa.UniqueConstraint('enterprise_id', 'idempotency_key', name=op.f('uq_label_batches_enterprise_id_idempotency_key'))
    )
    with op.batch_alter_table('label_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_batches_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_batches_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_batches_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_label_batches_serials', ['first_serial', 'last_serial'], unique=False)

    op.create_table('labels',
    sa.Column('serial', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('scan_count', sa.Integer(), nullable=False),
    sa.Column('first_scan_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_scan_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voided_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.Column('voided_by', sa.String(length=100), nullable=True),
    sa.Column('pin_used_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['label_batches.id'], name=op.f('fk_labels_batch_id_label_batches')),
    sa.PrimaryKeyConstraint('serial', name=op.f('pk_labels'))
    )
    with op.batch_alter_table('labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labels_batch_id'), ['batch_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_labels_batch_id'))

    op.drop_table('labels')
    with op.batch_alter_table('label_batches', schema=None) as batch_op:
        batch_op.drop_index('ix_label_batches_serials')
        batch_op.drop_index(batch_op.f('ix_label_batches_product_id'))
        batch_op.drop_index(batch_op.f('ix_label_batches_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_label_batches_certificate_id'))

    op.drop_table('label_batches')
    op.drop_table('signing_keys')
    op.drop_table('serial_counters')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('ix_scans_serial_at')
        batch_op.drop_index(batch_op.f('ix_scans_at'))

    op.drop_table('scans')
