"""second factor: TOTP secrets, recovery codes and login challenges

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('second_factors',
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_used_step', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject')
    )
    op.create_table('second_factor_recovery_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('code_hash')
    )
    with op.batch_alter_table('second_factor_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_second_factor_recovery_codes_subject'), ['subject'], unique=False)
    op.create_table('second_factor_challenges',
    sa.Column('challenge_hash', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('challenge_hash')
    )
    with op.batch_alter_table('second_factor_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_second_factor_challenges_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('second_factor_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_second_factor_challenges_expires_at'))
    op.drop_table('second_factor_challenges')
    with op.batch_alter_table('second_factor_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_second_factor_recovery_codes_subject'))
    op.drop_table('second_factor_recovery_codes')
    op.drop_table('second_factors')
