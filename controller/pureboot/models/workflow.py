"""Workflows: a name with immutable, numbered versions; each version has ordered tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, UTCDateTime, utcnow


class Workflow(Base):
    __tablename__ = "workflows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[Optional[str]] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic lock, and the ETag of the API (api/etag.py): every UPDATE or DELETE of the
    # row is conditional on the version read, so a concurrent change cannot be overwritten.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    versions = relationship("WorkflowVersion", back_populates="workflow",
                            order_by="WorkflowVersion.version", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def current(self) -> "WorkflowVersion":
        return next(v for v in self.versions if v.version == self.latest_version)


class WorkflowVersion(Base):
    """A frozen definition. Rows are never updated: a change makes a new version."""

    __tablename__ = "workflow_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[Optional[str]] = mapped_column(Text)
    # The playbook the node's run is (workflow_playbook.py): {"ref": FQCN or registered
    # file} or {"text": YAML}; None: the task list, run by the agent.
    playbook: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType, nullable=True)
    # Playbooks per phase (e.g. post_install), run through the job system.
    playbooks: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    in_use: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    workflow = relationship("Workflow", back_populates="versions")
    tasks = relationship("Task", order_by="Task.position", cascade="all, delete-orphan",
                         lazy="selectin")

    __table_args__ = (UniqueConstraint("workflow_id", "version", name="uq_workflow_versions_version"),)


class Task(Base):
    """One typed step of a workflow version (PRD 9.2), parameters as JSON."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_version_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[Optional[str]] = mapped_column(String(128))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
