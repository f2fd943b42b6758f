"""a merge proven with a package password: notice, confirmation and objection token

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('merges') as batch:
        batch.add_column(sa.Column('source_notified_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('source_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('objection_token_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('cancelled_by', sa.String(length=16), nullable=False, server_default=''))
        batch.create_unique_constraint('uq_merges_objection_token_hash', ['objection_token_hash'])
    # The proof method is named as the API names it.
    op.execute("UPDATE merges SET proof_method = 'package_password' WHERE proof_method = 'domain'")


def downgrade() -> None:
    op.execute("UPDATE merges SET proof_method = 'domain' WHERE proof_method = 'package_password'")
    with op.batch_alter_table('merges') as batch:
        batch.drop_constraint('uq_merges_objection_token_hash', type_='unique')
        batch.drop_column('cancelled_by')
        batch.drop_column('objection_token_hash')
        batch.drop_column('source_confirmed_at')
        batch.drop_column('source_notified_at')
