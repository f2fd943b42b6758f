"""contact request answers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:05:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contact_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('answer', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contact_requests', schema=None) as batch_op:
        batch_op.drop_column('answered_at')
        batch_op.drop_column('answer')
        batch_op.drop_column('status')
