"""password reset tokens: the customer's language

Revision ID: 0007
Revises: 0006_revocation_replicas
Create Date: 2026-12-10 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006_revocation_replicas'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('password_reset_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('password_reset_tokens', schema=None) as batch_op:
        batch_op.drop_column('language')
