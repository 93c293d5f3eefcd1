"""The durable event log behind GET /api/v1/events and webhooks (pureboot.events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; BIGINT elsewhere.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class EventLog(Base):
    """One row per published event; its id is the SSE id, so it must never be reused:
    AUTOINCREMENT on SQLite (else pruning the newest rows would hand their ids out again)."""

    __tablename__ = "event_log"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    # no foreign key: events outlive deleted nodes, and inserting one must not lock the node row
    node_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
