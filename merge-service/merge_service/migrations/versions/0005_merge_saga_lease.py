"""one owner per merge saga: a lease on the merge row and retries scheduled in the database

Revision ID: 0005
Revises: 0004_outbox_leases
Create Date: 2026-12-03 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004_outbox_leases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merges', schema=None) as batch_op:
        # The copy of merge-service running the saga (None: nobody), and until when.
        batch_op.add_column(sa.Column('saga_owner', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('saga_lease_until', sa.DateTime(timezone=True), nullable=True))
        # The next try after a failure (None: due at once), and the failed tries so far.
        batch_op.add_column(sa.Column('saga_next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('saga_attempts', sa.Integer(), nullable=False, server_default='0'))
    # Merges left executing or reversing by the version before are due at once (all columns NULL).


def downgrade() -> None:
    with op.batch_alter_table('merges', schema=None) as batch_op:
        batch_op.drop_column('saga_attempts')
        batch_op.drop_column('saga_next_attempt_at')
        batch_op.drop_column('saga_lease_until')
        batch_op.drop_column('saga_owner')
