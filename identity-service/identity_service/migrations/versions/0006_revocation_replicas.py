"""revocation across identity copies: the acknowledgements and heartbeats of each copy

Revision ID: 0006_revocation_replicas
Revises: 0005_outbox_leases
Create Date: 2026-12-09 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_revocation_replicas'
down_revision = '0005_outbox_leases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Used on PostgreSQL only (LISTEN/NOTIFY between the copies); created everywhere so that
    # every database has the same schema.
    op.create_table('revocation_replicas',
    sa.Column('replica_id', sa.String(length=120), nullable=False),
    sa.Column('acked_sequence', sa.BigInteger(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('replica_id')
    )
    with op.batch_alter_table('revocation_replicas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revocation_replicas_heartbeat_at'), ['heartbeat_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('revocation_replicas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revocation_replicas_heartbeat_at'))
    op.drop_table('revocation_replicas')
