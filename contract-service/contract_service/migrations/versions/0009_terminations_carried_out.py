"""terminations carried out

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:41:40.447300
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('terminations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_out_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('terminations', schema=None) as batch_op:
        batch_op.drop_column('carried_out_at')

