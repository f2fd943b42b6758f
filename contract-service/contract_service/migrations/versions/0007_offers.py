"""offers of the month and their orders

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:32:01.132922
"""
import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('price_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('markets', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_valid_until'), ['valid_until'], unique=False)

    op.create_table('offer_orders',
    sa.Column('offer_id', sa.String(length=40), nullable=False),
    sa.Column('package_id', sa.String(length=64), nullable=False),
    sa.Column('customer_number', sa.String(length=20), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('price_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_number'], ['customers.customer_number'], ),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
    sa.PrimaryKeyConstraint('offer_id', 'package_id')
    )
    with op.batch_alter_table('offer_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_orders_customer_number'), ['customer_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('offer_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_orders_customer_number'))

    op.drop_table('offer_orders')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_valid_until'))

    op.drop_table('offers')
