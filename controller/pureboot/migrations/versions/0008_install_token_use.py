"""When a node's install token was last used, and when the boot service last saw its DHCP:
an anonymous check-in rotates a token in use only after the node really booted again.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import pureboot.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('install_token_used_at', pureboot.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('dhcp_seen_at', pureboot.models.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_column('dhcp_seen_at')
        batch_op.drop_column('install_token_used_at')
