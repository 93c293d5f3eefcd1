"""Projects (AWX): a directory of playbooks an admin registers, local or synced from git."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

SCM_TYPES = ("local", "git")
#: new: never synced (git); successful: playbooks usable; failed: last sync failed (last_error says why)
PROJECT_STATUSES = ("new", "successful", "failed")


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[Optional[str]] = mapped_column(Text)
    scm_type: Mapped[str] = mapped_column(String(16))
    local_path: Mapped[str] = mapped_column(String(1024), default="")  # local: realpath'd directory
    scm_url: Mapped[str] = mapped_column(String(2048), default="")
    scm_branch: Mapped[str] = mapped_column(String(255), default="")  # empty: the remote's default
    scm_revision: Mapped[str] = mapped_column(String(64), default="")  # commit of the last sync
    status: Mapped[str] = mapped_column(String(16), default="new")
    last_synced: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
