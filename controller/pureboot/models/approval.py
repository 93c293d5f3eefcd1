"""Four-eye approvals: a critical action waits here until a second person decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, UTCDateTime, utcnow

# pending -> approved (claimed, executing) -> executed | failed ; pending -> denied | expired | cancelled
APPROVAL_STATUSES = ("pending", "approved", "executed", "failed", "denied", "expired", "cancelled")


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[Optional[str]] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Secret parts of the payload (a new credential secret), Fernet-encrypted, never returned.
    secret_payload_encrypted: Mapped[Optional[str]] = mapped_column(Text)
    reason: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requester: Mapped[str] = mapped_column(String(128))
    requester_id: Mapped[Optional[int]] = mapped_column(Integer)
    approver: Mapped[Optional[str]] = mapped_column(String(128))
    approver_id: Mapped[Optional[int]] = mapped_column(Integer)
    comment: Mapped[Optional[str]] = mapped_column(Text)
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    executed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_approvals_target", "target_type", "target_id"),)
