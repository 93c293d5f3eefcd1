"""jobs, job events, job templates, node keys, webhooks

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 00:10:03.828505
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pureboot.models.base

revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('playbook', sa.String(length=1024), nullable=False),
    sa.Column('inventory', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('extra_vars', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('credentials', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('limit', sa.String(length=1024), nullable=False),
    sa.Column('forks', sa.Integer(), nullable=False),
    sa.Column('timeout', sa.Integer(), nullable=False),
    sa.Column('verbosity', sa.Integer(), nullable=False),
    sa.Column('ask_extra_vars_on_launch', sa.Boolean(), nullable=False),
    sa.Column('ask_limit_on_launch', sa.Boolean(), nullable=False),
    sa.Column('ask_inventory_on_launch', sa.Boolean(), nullable=False),
    sa.Column('ask_forks_on_launch', sa.Boolean(), nullable=False),
    sa.Column('ask_timeout_on_launch', sa.Boolean(), nullable=False),
    sa.Column('ask_verbosity_on_launch', sa.Boolean(), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_templates')),
    sa.UniqueConstraint('name', name=op.f('uq_job_templates_name'))
    )
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('event_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('secret_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.String(length=255), nullable=False),
    sa.Column('last_delivery_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks')),
    sa.UniqueConstraint('name', name=op.f('uq_webhooks_name'))
    )
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('launched_by', sa.String(length=128), nullable=False),
    sa.Column('launch_type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('playbook', sa.String(length=1024), nullable=False),
    sa.Column('inventory', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('extra_vars', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('credentials', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('limit', sa.String(length=1024), nullable=False),
    sa.Column('forks', sa.Integer(), nullable=False),
    sa.Column('timeout', sa.Integer(), nullable=False),
    sa.Column('verbosity', sa.Integer(), nullable=False),
    sa.Column('executor', sa.String(length=16), nullable=False),
    sa.Column('execution_node', sa.String(length=255), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started', pureboot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished', pureboot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('elapsed', sa.Float(), nullable=False),
    sa.Column('rc', sa.Integer(), nullable=True),
    sa.Column('job_explanation', sa.Text(), nullable=False),
    sa.Column('result_traceback', sa.Text(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('event_processing_finished', sa.Boolean(), nullable=False),
    sa.Column('events_finished_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('stdout_bytes', sa.BigInteger(), nullable=False),
    sa.Column('stdout_lines', sa.Integer(), nullable=False),
    sa.Column('events_pruned', sa.Boolean(), nullable=False),
    sa.Column('artifacts_dir', sa.String(length=1024), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('relaunch_of', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_jobs_node_id_nodes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['job_templates.id'], name=op.f('fk_jobs_template_id_job_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_finished'), ['finished'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_launched_by'), ['launched_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_node_id'), ['node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)
        batch_op.create_index('ix_jobs_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_template_id'), ['template_id'], unique=False)

    op.create_table('node_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('private_key_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['nodes.id'], name=op.f('fk_node_keys_node_id_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_keys')),
    sa.UniqueConstraint('node_id', name=op.f('uq_node_keys_node_id'))
    )
    op.create_table('job_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('counter', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('parent_uuid', sa.String(length=36), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('play', sa.String(length=1024), nullable=False),
    sa.Column('task', sa.String(length=1024), nullable=False),
    sa.Column('role', sa.String(length=1024), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.Column('stdout', sa.Text(), nullable=False),
    sa.Column('start_line', sa.Integer(), nullable=False),
    sa.Column('end_line', sa.Integer(), nullable=False),
    sa.Column('event_data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_events_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_events')),
    sa.UniqueConstraint('job_id', 'counter', name='uq_job_events_job_counter')
    )


def downgrade() -> None:
    op.drop_table('job_events')
    op.drop_table('node_keys')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_template_id'))
        batch_op.drop_index('ix_jobs_status_created')
        batch_op.drop_index(batch_op.f('ix_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_jobs_node_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_launched_by'))
        batch_op.drop_index(batch_op.f('ix_jobs_finished'))

    op.drop_table('jobs')
    op.drop_table('webhooks')
    op.drop_table('job_templates')
