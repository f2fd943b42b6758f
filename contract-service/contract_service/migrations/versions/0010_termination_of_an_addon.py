"""termination of an add-on

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table('terminations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('addon_id', sa.String(length=40), server_default='', nullable=False))
        batch_op.drop_index('uq_terminations_open', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('uq_terminations_open', ['package_id', 'domain', 'addon_id'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table('terminations', schema=None) as batch_op:
        batch_op.drop_index('uq_terminations_open', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index('uq_terminations_open', ['package_id', 'domain'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_column('addon_id')
