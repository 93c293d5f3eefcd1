"""Databases at an old schema revision, for migration tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from pureboot.migrate import upgrade


@contextmanager
def database_at(kind: str, tmp_path: Path, revision: str) -> Iterator[str]:
    """The URL of a fresh `kind` ("sqlite" or "postgresql") database upgraded to `revision`;
    skips the test when PostgreSQL cannot run here."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, revision)
        yield url
        return
    from tests.support.postgres import TestDatabase
    try:
        database = TestDatabase()
    except Exception as exc:  # noqa: BLE001 - any reason PostgreSQL cannot run
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        url = database.url.replace("postgresql://", "postgresql+psycopg://")
        upgrade(url, revision)
        yield url
    finally:
        database.drop()
