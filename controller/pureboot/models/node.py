"""Nodes (the registry) and their transition history."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, JSONType, UTCDateTime, utcnow


class Node(Base):
    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    serial: Mapped[Optional[str]] = mapped_column(String(128), index=True)
    system_uuid: Mapped[Optional[str]] = mapped_column(String(36), index=True)
    hostname: Mapped[Optional[str]] = mapped_column(String(253), index=True)
    arch: Mapped[str] = mapped_column(String(16), default="x86_64")
    firmware: Mapped[str] = mapped_column(String(8), default="unknown")
    platform: Mapped[str] = mapped_column(String(16), default="baremetal")
    state: Mapped[str] = mapped_column(String(16), default="discovered", index=True)
    state_reason: Mapped[Optional[str]] = mapped_column(Text)
    workflow_id: Mapped[Optional[int]] = mapped_column(ForeignKey("workflows.id"), index=True)
    workflow_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("workflow_versions.id"))
    site: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    ip_address: Mapped[Optional[str]] = mapped_column(String(45))
    hardware: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    description: Mapped[Optional[str]] = mapped_column(Text)
    install_progress: Mapped[Optional[int]] = mapped_column(Integer)
    install_phase: Mapped[Optional[str]] = mapped_column(String(64))
    # Phone-home credential of the current install (services/phone_home.py): a random
    # nonce from which the token is derived with the controller's secret; no token stored.
    phone_home_nonce: Mapped[Optional[str]] = mapped_column(String(64))
    phone_home_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Per-node install token (PRD 12): only its sha256 is stored; set while the node
    # installs, deprovisions or migrates, cleared when it leaves those states.
    # Indexed, not unique: PostgreSQL treats a unique column as a key and an UPDATE of it
    # would then conflict with the FK share lock of concurrent event inserts (deadlock).
    install_token_hash: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    install_token_issued_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # A token in use (last use) is not rotated by an anonymous check-in unless the boot
    # service saw this MAC's DHCP since (services/tokens.py may_rotate).
    install_token_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    dhcp_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Optimistic lock: two concurrent transitions of one node cannot both commit.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    workflow = relationship("Workflow", lazy="joined")
    workflow_version = relationship("WorkflowVersion", lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}
    __table_args__ = (Index("ix_nodes_state_site", "state", "site"),)


class NodeEvent(Base):
    """One lifecycle transition: from, to, who, why, when. Append-only."""

    __tablename__ = "node_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    from_state: Mapped[Optional[str]] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[Optional[str]] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_node_events_node_created", "node_id", "created_at"),)
