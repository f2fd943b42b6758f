"""the saga's own trace: the W3C traceparent of its root span on the merge row

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-12 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merges', schema=None) as batch_op:
        # "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>" (55 characters); NULL for the
        # merges started before: their steps get a trace of their own when they run.
        batch_op.add_column(sa.Column('saga_trace', sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.drop_column('saga_trace')
