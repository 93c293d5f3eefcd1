"""Job templates, jobs and their events (AWX shapes), plus per-node ephemeral SSH keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, UTCDateTime, utcnow

JOB_STATUSES = ("new", "pending", "waiting", "running", "successful", "failed", "error", "canceled")
ACTIVE_STATUSES = ("new", "pending", "waiting", "running")
FINISHED_STATUSES = ("successful", "failed", "error", "canceled")
#: Fields a launch may override, each allowed only when the template's ask_<name>_on_launch is set.
PROMPTABLE = ("extra_vars", "limit", "inventory", "forks", "timeout", "verbosity")


class JobTemplate(Base):
    __tablename__ = "job_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[Optional[str]] = mapped_column(Text)
    # with a project: a path relative to the project's root (jobs/policy.py)
    project_id: Mapped[Optional[int]] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    playbook: Mapped[str] = mapped_column(String(1024))
    # {"source": "registry", "filter": {...}} or {"hosts": ["10.0.0.5", ...]}
    inventory: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    extra_vars: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # References only ({"kind": ..., "id": ...}); secret material never lives here.
    credentials: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    limit: Mapped[str] = mapped_column(String(1024), default="")
    forks: Mapped[int] = mapped_column(Integer, default=5)
    timeout: Mapped[int] = mapped_column(Integer, default=0)  # seconds, 0 = none
    verbosity: Mapped[int] = mapped_column(Integer, default=0)
    ask_extra_vars_on_launch: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_limit_on_launch: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_inventory_on_launch: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_forks_on_launch: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_timeout_on_launch: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_verbosity_on_launch: Mapped[bool] = mapped_column(Boolean, default=False)
    # only an admin sets it: launch-time extra vars may then set ansible_* (connection) variables
    allow_connection_vars: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    project = relationship("Project")


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    template_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("job_templates.id", ondelete="SET NULL"), index=True)
    launched_by: Mapped[str] = mapped_column(String(128), index=True)
    launch_type: Mapped[str] = mapped_column(String(16), default="manual")  # manual/relaunch/system
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    project_id: Mapped[Optional[int]] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    playbook: Mapped[str] = mapped_column(String(1024))
    inventory: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    extra_vars: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    credentials: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    limit: Mapped[str] = mapped_column(String(1024), default="")
    forks: Mapped[int] = mapped_column(Integer, default=5)
    timeout: Mapped[int] = mapped_column(Integer, default=0)
    verbosity: Mapped[int] = mapped_column(Integer, default=0)
    executor: Mapped[str] = mapped_column(String(16), default="thread")
    execution_node: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    elapsed: Mapped[float] = mapped_column(Float, default=0.0)
    rc: Mapped[Optional[int]] = mapped_column(Integer)
    job_explanation: Mapped[str] = mapped_column(Text, default="")
    result_traceback: Mapped[str] = mapped_column(Text, default="")  # internal only, never in the API
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    event_processing_finished: Mapped[bool] = mapped_column(Boolean, default=False)
    events_finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    stdout_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stdout_lines: Mapped[int] = mapped_column(Integer, default=0)
    events_pruned: Mapped[bool] = mapped_column(Boolean, default=False)
    artifacts_dir: Mapped[str] = mapped_column(String(1024), default="")
    # Set for jobs that act on one node (post-install): what happens when they end.
    node_id: Mapped[Optional[int]] = mapped_column(ForeignKey("nodes.id", ondelete="SET NULL"), index=True)
    purpose: Mapped[str] = mapped_column(String(32), default="")
    relaunch_of: Mapped[Optional[int]] = mapped_column(Integer)

    template = relationship("JobTemplate", lazy="joined")
    project = relationship("Project")

    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)


class JobEvent(Base):
    """One ansible-runner event. counter is unique per job: no event stored twice."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    counter: Mapped[int] = mapped_column(Integer)
    uuid: Mapped[str] = mapped_column(String(36), default="")
    parent_uuid: Mapped[str] = mapped_column(String(36), default="")
    event: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255), default="")
    play: Mapped[str] = mapped_column(String(1024), default="")
    task: Mapped[str] = mapped_column(String(1024), default="")
    role: Mapped[str] = mapped_column(String(1024), default="")
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    stdout: Mapped[str] = mapped_column(Text, default="")
    start_line: Mapped[int] = mapped_column(Integer, default=0)
    end_line: Mapped[int] = mapped_column(Integer, default=0)
    event_data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("job_id", "counter", name="uq_job_events_job_counter"),)


class NodeKey(Base):
    """The ephemeral SSH key of one install. The private half is encrypted; never in the API."""

    __tablename__ = "node_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"), unique=True)
    public_key: Mapped[str] = mapped_column(Text)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # The SSH host key the booted agent reported with "ready": pinned for the run's job
    # (known_hosts), so nothing else on the network can pose as the node.
    host_key: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The relationship orders the unit of work: the node's (version-checked) UPDATE is
    # flushed before this row, so a concurrent transition fails as a stale node (409).
    node = relationship("Node")


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)  # empty: every type
    secret_encrypted: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    last_status: Mapped[str] = mapped_column(String(255), default="")
    last_delivery_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

