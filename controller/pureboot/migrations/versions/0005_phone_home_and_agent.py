"""Phone-home credential of the current install (services/phone_home.py).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import pureboot.models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_home_nonce', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('phone_home_at', pureboot.models.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('phone_home_at')
        batch_op.drop_column('phone_home_nonce')
