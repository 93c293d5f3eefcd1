"""Projects (directories of playbooks an admin registers, local or git); job templates and
jobs name their project; job templates may allow connection variables at launch.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import pureboot.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'projects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('scm_type', sa.String(length=16), nullable=False),
        sa.Column('local_path', sa.String(length=1024), nullable=False),
        sa.Column('scm_url', sa.String(length=2048), nullable=False),
        sa.Column('scm_branch', sa.String(length=255), nullable=False),
        sa.Column('scm_revision', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('last_synced', pureboot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', pureboot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
        sa.UniqueConstraint('name', name=op.f('uq_projects_name')),
    )
    with op.batch_alter_table('job_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('allow_connection_vars', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_job_templates_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_job_templates_project_id_projects'), 'projects',
                                    ['project_id'], ['id'], ondelete='RESTRICT')
    with op.batch_alter_table('job_templates', schema=None) as batch_op:
        batch_op.alter_column('allow_connection_vars', server_default=None)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('project_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_jobs_project_id'), ['project_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_jobs_project_id_projects'), 'projects',
                                    ['project_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_jobs_project_id_projects'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_jobs_project_id'))
        batch_op.drop_column('project_id')
    with op.batch_alter_table('job_templates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_job_templates_project_id_projects'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_job_templates_project_id'))
        batch_op.drop_column('allow_connection_vars')
        batch_op.drop_column('project_id')
    op.drop_table('projects')
