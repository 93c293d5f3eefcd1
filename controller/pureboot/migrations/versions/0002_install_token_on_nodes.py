"""install token on nodes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:10:21.072772
"""

import sqlalchemy as sa
from alembic import op

import pureboot.models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('install_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('install_token_issued_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_nodes_install_token_hash'), ['install_token_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nodes_install_token_hash'))
        batch_op.drop_column('install_token_issued_at')
        batch_op.drop_column('install_token_hash')
