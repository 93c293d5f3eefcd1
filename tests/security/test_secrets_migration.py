"""Migration 0007: webhook secrets and install keys stored under the old SECRET_KEY scheme
are re-encrypted under SecretBox, and still open after an upgrade (and after a downgrade)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import MetaData, Table, create_engine, insert, select
from sqlalchemy.orm import Session

from pureboot.config import Settings
from pureboot.migrate import current_revision, downgrade, head_revision, upgrade
from pureboot.models import NodeKey, Webhook
from pureboot.secrets import SecretBox
from tests.support.migrations import database_at

HOOK_SECRET = "PLANTED-webhook-legacy-4411"
INSTALL_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nlegacy-body-b3BlbnNzaC1r\n-----END OPENSSH PRIVATE KEY-----\n"


def _legacy(secret_key: str) -> Fernet:
    """The removed crypto.py's key, written out independently of the migration."""
    digest = hashlib.sha256(b"pureboot-at-rest:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@pytest.fixture(params=["sqlite", "postgresql"])
def url_before_0007(request, tmp_path):
    with database_at(request.param, tmp_path, "0006") as url:
        yield url


def _seed(url: str, legacy: Fernet) -> None:
    """Rows as a 0006 controller wrote them (the models match the 0006 schema)."""
    engine = create_engine(url)
    # the 0006 tables, not today's models (which later migrations extend)
    nodes, webhooks, node_keys = (Table(name, MetaData(), autoload_with=engine)
                                  for name in ("nodes", "webhooks", "node_keys"))
    now = datetime.now(timezone.utc)
    row = {"mac": "52:54:00:00:07:01", "arch": "x86_64", "firmware": "unknown", "platform": "baremetal",
           "state": "discovered", "hardware": {}, "tags": [], "created_at": now, "updated_at": now,
           "state_changed_at": now, "lock_version": 1}
    with engine.begin() as conn:
        node_id = conn.execute(insert(nodes).values({k: v for k, v in row.items() if k in nodes.c})
                               .returning(nodes.c.id)).scalar_one()
    with Session(engine) as session, session.begin():  # the models fill in their defaults
        for model, table, rows in (
                (Webhook, webhooks, [dict(name="old", url="http://127.0.0.1:9/h", event_types=[],
                                          secret_encrypted=legacy.encrypt(HOOK_SECRET.encode())),
                                     dict(name="unsigned", url="http://127.0.0.1:9/u", event_types=[])]),
                (NodeKey, node_keys, [dict(node_id=node_id, public_key="ssh-ed25519 AAAA x",
                                           private_key_encrypted=legacy.encrypt(INSTALL_KEY.encode()))])):
            for values in rows:
                full = {c.key: getattr(model(**values), c.key) for c in model.__table__.columns}
                defaults = {c.name: c.default.arg for c in model.__table__.columns
                            if c.default is not None and not callable(c.default.arg)}
                filled = {**defaults, **{k: v for k, v in full.items() if v is not None},
                          "created_at": now, "updated_at": now}
                session.execute(insert(table).values({k: v for k, v in filled.items() if k in table.c}))
    engine.dispose()


def _tokens(url: str) -> tuple[bytes, bytes, str]:
    engine = create_engine(url)
    with Session(engine) as session:
        hook = session.scalar(select(Webhook.secret_encrypted).where(Webhook.name == "old"))
        key = session.scalar(select(NodeKey.private_key_encrypted))
    with engine.connect() as conn:
        revision = current_revision(conn)
    engine.dispose()
    return bytes(hook), bytes(key), revision


def test_upgrade_reencrypts_legacy_secrets_under_secretbox_and_downgrade_reverts(url_before_0007, tmp_path):
    settings = Settings(data_dir=str(tmp_path / "data"), database_url=url_before_0007, secret_key="old-app-key")
    legacy = _legacy("old-app-key")
    _seed(url_before_0007, legacy)
    upgrade(url_before_0007, settings=settings)
    hook, key, revision = _tokens(url_before_0007)
    assert revision == head_revision()
    box = SecretBox.for_settings(settings)
    assert box.decrypt(hook) == HOOK_SECRET and box.decrypt(key) == INSTALL_KEY
    assert HOOK_SECRET.encode() not in hook and b"legacy-body" not in key
    with pytest.raises(InvalidToken):  # really re-encrypted, not left in the old scheme
        legacy.decrypt(hook)
    upgrade(url_before_0007, settings=settings)  # at head: a no-op, nothing double-encrypted
    assert box.decrypt(_tokens(url_before_0007)[0]) == HOOK_SECRET

    downgrade(url_before_0007, "0006", settings=settings)
    hook, key, revision = _tokens(url_before_0007)
    assert revision == "0006"
    assert legacy.decrypt(hook).decode() == HOOK_SECRET and legacy.decrypt(key).decode() == INSTALL_KEY


def test_upgrade_reads_the_legacy_key_from_the_data_dir(url_before_0007, tmp_path):
    """No PUREBOOT_SECRET_KEY: the app used <data_dir>/secret_key; so must the migration."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_text("generated-key-in-file\n")
    _seed(url_before_0007, _legacy("generated-key-in-file"))
    settings = Settings(data_dir=str(data), database_url=url_before_0007)
    upgrade(url_before_0007, settings=settings)
    hook, key, _revision = _tokens(url_before_0007)
    assert SecretBox.for_settings(settings).decrypt(key) == INSTALL_KEY


@pytest.mark.parametrize("problem", ["no legacy key", "wrong legacy key"])
def test_upgrade_refuses_without_the_old_key_and_changes_nothing(url_before_0007, tmp_path, problem):
    _seed(url_before_0007, _legacy("old-app-key"))
    before = _tokens(url_before_0007)
    secret_key = "" if problem == "no legacy key" else "some-other-key"
    settings = Settings(data_dir=str(tmp_path / "empty"), database_url=url_before_0007, secret_key=secret_key)
    with pytest.raises(RuntimeError, match="PUREBOOT_SECRET_KEY") as raised:
        upgrade(url_before_0007, settings=settings)
    assert HOOK_SECRET not in str(raised.value)
    assert _tokens(url_before_0007) == before  # still 0006, tokens untouched: can retry with the right key
    assert not (tmp_path / "empty" / "secret_key").exists()  # no made-up legacy key was created
