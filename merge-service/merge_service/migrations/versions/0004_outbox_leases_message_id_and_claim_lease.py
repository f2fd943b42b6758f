"""outbox across copies: a stored Message-ID and a claim lease (claimed_by, lease_until)

Revision ID: 0004_outbox_leases
Revises: 0003
Create Date: 2026-12-02 03:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_outbox_leases'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
    # Rows queued before: a Message-ID made from the row id, as new rows get one.
    op.execute("UPDATE outbox SET message_id = '<' || id || '@customer-center.example>'")
    # A row the old dispatcher left 'sending' (it only logged them) is due again at once.
    op.execute("UPDATE outbox SET lease_until = next_attempt_at WHERE status = 'sending'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=255), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('message_id')
