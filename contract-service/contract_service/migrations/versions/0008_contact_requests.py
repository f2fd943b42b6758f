"""contact requests

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:36:39.135267
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_requests',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('customer_number', sa.String(length=20), nullable=False),
    sa.Column('package_id', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('attachment', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_requests_customer_number'), ['customer_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contact_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_requests_customer_number'))
        batch_op.drop_index(batch_op.f('ix_contact_requests_created_at'))

    op.drop_table('contact_requests')
