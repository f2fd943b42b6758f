"""addons: the additional services of a package

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('addons',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('package_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('addons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addons_package_id'), ['package_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('addons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addons_package_id'))

    op.drop_table('addons')
