"""Workflows are playbooks: a version's playbook (reference or YAML text), and the SSH host
key the booted agent reports, pinned for its provisioning job.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workflow_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('playbook', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
    with op.batch_alter_table('node_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_key', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('node_keys', schema=None) as batch_op:
        batch_op.drop_column('host_key')
    with op.batch_alter_table('workflow_versions', schema=None) as batch_op:
        batch_op.drop_column('playbook')
