"""Fixtures shared by every suite: settings, a migrated database per backend, the app."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from pureboot.app import create_app
from pureboot.config import Settings
from pureboot.db import make_engine
from pureboot.migrate import upgrade
from pureboot.models import GENESIS, AuditHead, Base
from tests.support.auth import BearerClient, mint_token
from tests.support.postgres import TestDatabase

BACKENDS = ["sqlite", "postgresql"]

# tests/unit is the collection's ansible-test layout: `ansible-test units` runs it inside an
# ansible_collections tree (tests/ansible/test_ansible_test.py), plain pytest cannot load it.
collect_ignore = ["unit"]


@pytest.fixture(scope="session")
def postgresql_url():
    try:
        database = TestDatabase()
    except Exception as exc:  # noqa: BLE001 - any reason PostgreSQL cannot run
        if os.environ.get("PUREBOOT_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (PUREBOOT_REQUIRE_POSTGRES) but unavailable: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    upgrade(database.url.replace("postgresql://", "postgresql+psycopg://"))
    yield database.url
    database.drop()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'pureboot.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request):
    """Each test using the database runs once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue(f"{request.param}_url")
    yield url
    _truncate(url)


def _truncate(url: str) -> None:
    engine = make_engine(Settings(data_dir="/", database_url=url).database_uri)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        # the audit chain's head row, as the migration seeds it
        conn.execute(AuditHead.__table__.insert().values(id=1, seq=0, last_hash=GENESIS, anchor_seq=0,
                                                          anchor_hash=GENESIS))
        if engine.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"))
    engine.dispose()


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=str(tmp_path / "data"), database_url=database_url, secret_key="test-secret")


@pytest.fixture
def app(settings):
    application = create_app(settings)
    application.config["TESTING"] = True
    application.test_client_class = BearerClient
    yield application
    application.extensions["pureboot.db"].dispose()


@pytest.fixture
def client_as(app):
    """client_as("operator") -> a test client authenticated as a user with that role.

    The user is named after the role unless `username` is given (client_as("admin", "bob")).
    """
    def make(role: str, username: str | None = None):
        return app.test_client(token=mint_token(app, role, username))
    return make


@pytest.fixture
def client(client_as):
    """A test client authenticated as an admin (user "admin")."""
    return client_as("admin")


@pytest.fixture
def anon_client(app):
    """A test client without credentials."""
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["pureboot.db"]
