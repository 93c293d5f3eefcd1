"""initial schema: nodes, events, workflows, tasks, templates, logs, hypervisors

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 00:04:59.540717
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pureboot.models.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hypervisors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('endpoint', sa.String(length=1024), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=True),
    sa.Column('verify_tls', sa.Boolean(), nullable=False),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hypervisors')),
    sa.UniqueConstraint('name', name=op.f('uq_hypervisors_name'))
    )
    with op.batch_alter_table('hypervisors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hypervisors_provider'), ['provider'], unique=False)

    op.create_table('templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('location', sa.String(length=1024), nullable=True),
    sa.Column('stored', sa.Boolean(), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_templates')),
    sa.UniqueConstraint('name', 'version', name='uq_templates_name_version')
    )
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_templates_name'), ['name'], unique=False)

    op.create_table('workflows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflows')),
    sa.UniqueConstraint('name', name=op.f('uq_workflows_name'))
    )
    op.create_table('workflow_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('playbooks', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('variables', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('in_use', sa.Boolean(), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_workflow_versions_workflow_id_workflows'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_versions')),
    sa.UniqueConstraint('workflow_id', 'version', name='uq_workflow_versions_version')
    )
    with op.batch_alter_table('workflow_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_versions_workflow_id'), ['workflow_id'], unique=False)

    op.create_table('nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mac', sa.String(length=17), nullable=False),
    sa.Column('serial', sa.String(length=128), nullable=True),
    sa.Column('system_uuid', sa.String(length=36), nullable=True),
    sa.Column('hostname', sa.String(length=253), nullable=True),
    sa.Column('arch', sa.String(length=16), nullable=False),
    sa.Column('firmware', sa.String(length=8), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('workflow_id', sa.Integer(), nullable=True),
    sa.Column('workflow_version_id', sa.Integer(), nullable=True),
    sa.Column('site', sa.String(length=64), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('hardware', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('install_progress', sa.Integer(), nullable=True),
    sa.Column('install_phase', sa.String(length=64), nullable=True),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state_changed_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], name=op.f('fk_nodes_workflow_id_workflows')),
    sa.ForeignKeyConstraint(['workflow_version_id'], ['workflow_versions.id'], name=op.f('fk_nodes_workflow_version_id_workflow_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nodes')),
    sa.UniqueConstraint('mac', name=op.f('uq_nodes_mac'))
    )
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nodes_hostname'), ['hostname'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_serial'), ['serial'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_state'), ['state'], unique=False)
        batch_op.create_index('ix_nodes_state_site', ['state', 'site'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_system_uuid'), ['system_uuid'], unique=False)
        batch_op.create_index(batch_op.f('ix_nodes_workflow_id'), ['workflow_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=True),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['workflow_version_id'], ['workflow_versions.id'], name=op.f('fk_tasks_workflow_version_id_workflow_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_workflow_version_id'), ['workflow_version_id'], unique=False)

    op.create_table('logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_logs_node_id_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logs'))
    )
    with op.batch_alter_table('logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logs_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_logs_node_created', ['node_id', 'created_at'], unique=False)

    op.create_table('node_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_node_events_node_id_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_events'))
    )
    with op.batch_alter_table('node_events', schema=None) as batch_op:
        batch_op.create_index('ix_node_events_node_created', ['node_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('node_events', schema=None) as batch_op:
        batch_op.drop_index('ix_node_events_node_created')

    op.drop_table('node_events')
    with op.batch_alter_table('logs', schema=None) as batch_op:
        batch_op.drop_index('ix_logs_node_created')
        batch_op.drop_index(batch_op.f('ix_logs_created_at'))

    op.drop_table('logs')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_workflow_version_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nodes_workflow_id'))
        batch_op.drop_index(batch_op.f('ix_nodes_system_uuid'))
        batch_op.drop_index('ix_nodes_state_site')
        batch_op.drop_index(batch_op.f('ix_nodes_state'))
        batch_op.drop_index(batch_op.f('ix_nodes_site'))
        batch_op.drop_index(batch_op.f('ix_nodes_serial'))
        batch_op.drop_index(batch_op.f('ix_nodes_hostname'))

    op.drop_table('nodes')
    with op.batch_alter_table('workflow_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_versions_workflow_id'))

    op.drop_table('workflow_versions')
    op.drop_table('workflows')
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_templates_name'))

    op.drop_table('templates')
    with op.batch_alter_table('hypervisors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hypervisors_provider'))

    op.drop_table('hypervisors')
