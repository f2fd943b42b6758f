"""direct debit collections and invoice return reasons

Revision ID: 0006
Revises: 0005_outbox_leases
Create Date: 2026-12-02 09:21:36.335544

Invoices can be debit_requested (a longer status) and keep the reason of a returned debit;
collections hold the invoices they debit, with the debtor's account as it was collected.
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005_outbox_leases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('direct_debit_collections',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('direct_debit_items',
    sa.Column('collection_id', sa.String(length=40), nullable=False),
    sa.Column('invoice_number', sa.String(length=20), nullable=False),
    sa.Column('customer_number', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('debtor_name', sa.String(length=200), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('mandate_id', sa.String(length=35), nullable=False),
    sa.Column('mandate_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['direct_debit_collections.id'], ),
    sa.ForeignKeyConstraint(['invoice_number'], ['invoices.number'], ),
    sa.PrimaryKeyConstraint('collection_id', 'invoice_number')
    )
    with op.batch_alter_table('debit_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collection_id', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_debit_requests_collection_id'), ['collection_id'], unique=False)
        batch_op.create_foreign_key('fk_debit_requests_collection_id', 'direct_debit_collections', ['collection_id'], ['id'])

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_reason', sa.String(length=200), server_default='', nullable=False))
        batch_op.alter_column('status',
               existing_type=sa.VARCHAR(length=10),
               type_=sa.String(length=20),
               existing_nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.alter_column('status',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=10),
               existing_nullable=False)
        batch_op.drop_column('return_reason')

    with op.batch_alter_table('debit_requests', schema=None) as batch_op:
        batch_op.drop_constraint('fk_debit_requests_collection_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_debit_requests_collection_id'))
        batch_op.drop_column('collection_id')

    op.drop_table('direct_debit_items')
    op.drop_table('direct_debit_collections')
