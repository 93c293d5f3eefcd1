"""A version counter on workflows, templates and hypervisors (nodes have one since 0001):
the ETag of the API, and the optimistic lock that makes If-Match race-safe.

Existing rows start at 1 through the server default. The default stays: on SQLite,
dropping it would rebuild the table, and it is harmless (the ORM always sets the value).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = ('workflows', 'templates', 'hypervisors')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('lock_version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('lock_version')
