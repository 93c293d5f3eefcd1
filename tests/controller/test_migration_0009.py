"""0009: rows that exist before the version column start at version 1 (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import MetaData, Table, create_engine, insert, inspect, select

from pureboot.migrate import downgrade, upgrade
from tests.support.migrations import database_at

TABLES = ("workflows", "templates", "hypervisors")


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0008(request, tmp_path):
    with database_at(request.param, tmp_path, "0008") as url:
        yield url


def _seed(url: str) -> None:
    """One row per table, written with the 0008 schema (no ORM: the models are at head)."""
    now = datetime.now(timezone.utc)
    engine = create_engine(url)
    meta = MetaData()
    rows = {
        "workflows": {"name": "wf", "active": True, "latest_version": 1},
        "templates": {"name": "img", "version": "1", "kind": "raw", "stored": False},
        "hypervisors": {"name": "kvm", "provider": "libvirt", "endpoint": "qemu:///system", "verify_tls": True,
                        "options": {}},
    }
    with engine.begin() as conn:
        for table, values in rows.items():
            conn.execute(insert(Table(table, meta, autoload_with=conn)).values(
                created_at=now, updated_at=now, **values))
    engine.dispose()


def test_existing_rows_get_version_1_and_downgrade_drops_the_column(url_at_0008):
    _seed(url_at_0008)
    upgrade(url_at_0008)
    engine = create_engine(url_at_0008)
    with engine.connect() as conn:
        for table in TABLES:
            versions = conn.execute(select(Table(table, MetaData(), autoload_with=conn).c.lock_version)).all()
            assert versions == [(1,)], table
    downgrade(url_at_0008, "0008")
    for table in TABLES:
        assert "lock_version" not in {c["name"] for c in inspect(engine).get_columns(table)}
    engine.dispose()
