"""Migrations from empty; an un-migrated database is refused with a clear message."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect

from pureboot.app import create_app
from pureboot.config import Settings
from pureboot.migrate import NotMigrated, downgrade, head_revision, upgrade
from pureboot.models import Base


def test_upgrade_from_empty_builds_every_table_and_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    with create_engine(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_downgrade_to_base_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade(url)
    downgrade(url, "base")
    assert set(inspect(create_engine(url)).get_table_names()) == {"alembic_version"}
    upgrade(url)


def test_app_refuses_unmigrated_database(tmp_path):
    settings = Settings(data_dir=str(tmp_path), secret_key="x")
    with pytest.raises(NotMigrated, match="pureboot db upgrade"):
        create_app(settings)
    upgrade(settings.database_uri)
    create_app(settings)


def test_cli_serve_explains_and_db_upgrade_fixes(tmp_path):
    env = {"PUREBOOT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cli = [sys.executable, "-m", "pureboot.cli"]
    refused = subprocess.run(cli + ["serve", "--listen", "127.0.0.1:0"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "pureboot db upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr
    subprocess.run(cli + ["db", "upgrade"], env=env, check=True, capture_output=True)
    current = subprocess.run(cli + ["db", "current"], env=env, capture_output=True, text=True)
    assert current.returncode == 0 and head_revision() in current.stdout


def test_postgres_schema_matches_models(postgresql_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    engine = create_engine(postgresql_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
