"""Templates: versioned OS images and config files, stored under the data directory."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

TEMPLATE_KINDS = ("raw", "qcow2", "vhdx", "wim", "tar.gz", "squashfs", "iso", "kernel", "initrd", "config")


class Template(Base):
    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[str] = mapped_column(String(64), default="1")
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[Optional[str]] = mapped_column(Text)
    # Expected checksum (declared) and what was stored (computed while streaming).
    sha256: Mapped[Optional[str]] = mapped_column(String(64))
    size: Mapped[Optional[int]] = mapped_column(BigInteger)
    filename: Mapped[Optional[str]] = mapped_column(String(255))
    location: Mapped[Optional[str]] = mapped_column(String(1024))  # external URL, when not stored here
    stored: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic lock, and the ETag of the API (api/etag.py): every UPDATE or DELETE of the
    # row is conditional on the version read, so a concurrent change cannot be overwritten.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}

    __table_args__ = (UniqueConstraint("name", "version", name="uq_templates_name_version"),)
