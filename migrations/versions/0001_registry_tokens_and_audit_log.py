"""registry, tokens and audit log

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import verify_service.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_target', ['target_type', 'target_id'], unique=False)

    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('gf_code', sa.String(length=14), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('contact_name', sa.String(length=100), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('poverty_exit_date', sa.Date(), nullable=True),
    sa.Column('platform_entity_code', sa.String(length=64), nullable=True),
    sa.Column('created_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('gf_code', name=op.f('uq_enterprises_gf_code')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprises_uscc'))
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprises_county_code'), ['county_code'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', verify_service.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_api_tokens_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=True),
    sa.Column('issuer', sa.String(length=200), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_changed_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_certificates_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_programme'), ['programme'], unique=False)

    op.create_table('certificate_status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_certificate_status_events_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_status_events'))
    )
    with op.batch_alter_table('certificate_status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_status_events_certificate_id'), ['certificate_id'], unique=False)

    op.create_table('gi_authorisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=16, scale=3), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('created_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_gi_authorisations_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_gi_authorisations_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gi_authorisations')),
    sa.UniqueConstraint('certificate_id', 'enterprise_id', 'year', name=op.f('uq_gi_authorisations_certificate_id_enterprise_id_year'))
    )
    with op.batch_alter_table('gi_authorisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gi_authorisations_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gi_authorisations_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('product_class', sa.String(length=40), nullable=True),
    sa.Column('trademark', sa.String(length=100), nullable=True),
    sa.Column('approved_output', sa.Numeric(precision=16, scale=3), nullable=True),
    sa.Column('output_unit', sa.String(length=16), nullable=True),
    sa.Column('created_at', verify_service.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_products_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('certificate_id', 'name', name=op.f('uq_products_certificate_id_name'))
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_certificate_id'), ['certificate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_certificate_id'))

    op.drop_table('products')
    with op.batch_alter_table('gi_authorisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gi_authorisations_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_gi_authorisations_certificate_id'))

    op.drop_table('gi_authorisations')
    with op.batch_alter_table('certificate_status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_status_events_certificate_id'))

    op.drop_table('certificate_status_events')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_programme'))
        batch_op.drop_index(batch_op.f('ix_certificates_enterprise_id'))

    op.drop_table('certificates')
    op.drop_table('api_tokens')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_county_code'))

    op.drop_table('enterprises')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
