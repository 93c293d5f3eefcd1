"""Stored credentials (SSH keys, domain join, BMC, hypervisor, webhook); secrets encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONType, UTCDateTime, utcnow

# kind -> secret field names it accepts (the first is required)
CREDENTIAL_KINDS: dict[str, tuple[str, ...]] = {
    "ssh_key": ("private_key", "passphrase"),
    "domain_join": ("password",),
    "bmc": ("password",),
    "hypervisor": ("password",),
    "webhook": ("token",),
}


class Credential(Base):
    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    username: Mapped[Optional[str]] = mapped_column(String(255))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # non-secret fields
    description: Mapped[Optional[str]] = mapped_column(Text)
    secret_encrypted: Mapped[Optional[str]] = mapped_column(Text)  # Fernet(JSON of secret fields)
    secret_fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
