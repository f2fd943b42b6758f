"""sessions (a token issued at a login, with a public id) and the login history

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sessions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('jti', sa.String(length=128), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('last_used_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.Column('client_address', sa.String(length=255), nullable=False),
    sa.Column('user_agent', sa.String(length=512), nullable=False),
    sa.Column('ended_at', sa.Float(), nullable=True),
    sa.Column('new_device', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('jti')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_subject'), ['subject'], unique=False)

    op.create_table('login_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('client_address', sa.String(length=255), nullable=False),
    sa.Column('user_agent', sa.String(length=512), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_history', schema=None) as batch_op:
        batch_op.create_index('ix_login_history_subject_at', ['subject', 'at'], unique=False)
        batch_op.create_index('ix_login_history_subject_device', ['subject', 'device'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_history', schema=None) as batch_op:
        batch_op.drop_index('ix_login_history_subject_device')
        batch_op.drop_index('ix_login_history_subject_at')
    op.drop_table('login_history')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_subject'))
        batch_op.drop_index(batch_op.f('ix_sessions_expires_at'))
    op.drop_table('sessions')
