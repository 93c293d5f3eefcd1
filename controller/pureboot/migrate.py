"""Alembic, driven from code: no alembic.ini to find, the URL comes from our settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

SCRIPTS = Path(__file__).parent / "migrations"


def alembic_config(url: str, settings=None) -> Config:
    """`settings` reach data migrations (0007 needs the secret keys) as attributes["pureboot_settings"]."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if settings is not None:
        config.attributes["pureboot_settings"] = settings
    return config


def head_revision() -> str:
    return ScriptDirectory(str(SCRIPTS)).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, revision: str = "head", settings=None) -> None:
    command.upgrade(alembic_config(url, settings), revision)


def downgrade(url: str, revision: str, settings=None) -> None:
    command.downgrade(alembic_config(url, settings), revision)


class NotMigrated(RuntimeError):
    pass


def check_migrated(connection: Connection, url: str) -> None:
    current, head = current_revision(connection), head_revision()
    if current != head:
        raise NotMigrated(
            f"the database {_redact(url)} is at revision {current or 'none (empty)'}, "
            f"this PureBoot needs {head}. Run: pureboot db upgrade")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)
