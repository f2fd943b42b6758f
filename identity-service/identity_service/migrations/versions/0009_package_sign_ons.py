"""package sign-ons: the redeemed single sign-on links into the package administration

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('package_sign_ons',
    sa.Column('jti', sa.String(length=128), nullable=False),
    sa.Column('package_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('package_sign_ons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_package_sign_ons_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('package_sign_ons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_package_sign_ons_expires_at'))

    op.drop_table('package_sign_ons')
