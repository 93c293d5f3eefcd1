"""Re-encrypt webhook secrets and install SSH keys under SecretBox (data only, no schema change).

Until 0007 these two columns held Fernet tokens keyed from the app's SECRET_KEY (the
removed crypto.py); now every secret at rest uses SecretBox (secret.keys /
PUREBOOT_SECRET_KEYS), so `pureboot secrets rotate` covers them and changing SECRET_KEY
no longer breaks them.

Why an eager data migration and not a lazy "decrypt legacy, re-encrypt on read" path:
a lazy path keeps the SECRET_KEY scheme in the code for good, rows that are never read
(an idle webhook) stay outside rotation, and a later SECRET_KEY change would still lose
them. `pureboot db upgrade` runs with the controller's configuration (PUREBOOT_* /
PUREBOOT_CONFIG, handed in as config.attributes["pureboot_settings"]), so both keys are
there. If they are not (no SECRET_KEY and no <data_dir>/secret_key, or a token the old
key cannot open), the migration stops before writing anything and says what to set:
refusing is better than silently leaving secrets nobody can decrypt.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op
from cryptography.fernet import Fernet, InvalidToken

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = (("webhooks", "secret_encrypted"), ("node_keys", "private_key_encrypted"))


class LegacyKeyMissing(RuntimeError):
    pass


def _settings():
    settings = context.config.attributes.get("pureboot_settings")
    if settings is None:
        from pureboot.config import load_settings
        settings = load_settings()
    return settings


def _legacy_fernet(settings) -> Fernet:
    """crypto.py's key, derived without creating a secret_key file (a new one would be wrong)."""
    secret = settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not secret and path.exists():
        secret = path.read_text().strip()
    if not secret:
        raise LegacyKeyMissing(
            f"migration 0007 must decrypt webhook secrets / install keys stored with the old SECRET_KEY, "
            f"but neither PUREBOOT_SECRET_KEY nor {path} is available: run `pureboot db upgrade` with "
            f"the controller's configuration (PUREBOOT_DATA_DIR, PUREBOOT_SECRET_KEY or PUREBOOT_CONFIG)")
    digest = hashlib.sha256(b"pureboot-at-rest:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _rows(bind):
    for table, column in COLUMNS:
        t = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.LargeBinary))
        for row_id, token in bind.execute(sa.select(t.c.id, t.c[column]).where(t.c[column].is_not(None))):
            yield t, column, row_id, bytes(token)


def _opens(fernet, token: bytes) -> bool:
    try:
        fernet.decrypt(token)
        return True
    except InvalidToken:
        return False


def _convert(keys, what: str) -> None:
    """Re-encrypt every token from source to target scheme. Every token is decrypted before
    the first write, so a failure leaves the database as it was. Tokens already in the target
    scheme are left alone (a re-run is harmless)."""
    bind = op.get_bind()
    rows = list(_rows(bind))
    if not rows:
        return  # nothing stored: no keys needed (fresh databases, test fixtures)
    source, target = keys(_settings())
    updates = []
    for t, column, row_id, token in rows:
        if _opens(target, token):
            continue
        try:
            updates.append((t, column, row_id, target.encrypt(source.decrypt(token))))
        except InvalidToken:
            raise LegacyKeyMissing(
                f"migration 0007 ({what}): {t.name}.{column} of row {row_id} cannot be decrypted with the "
                "configured key; check PUREBOOT_SECRET_KEY / PUREBOOT_SECRET_KEYS (or the key files in the "
                "data directory)") from None
    for t, column, row_id, token in updates:
        bind.execute(sa.update(t).where(t.c.id == row_id).values({column: token}))


def _secret_box(settings):
    from pureboot.secrets import SecretBox
    return SecretBox.for_settings(settings).fernet


def upgrade() -> None:
    _convert(lambda settings: (_legacy_fernet(settings), _secret_box(settings)), "upgrade")


def downgrade() -> None:
    _convert(lambda settings: (_secret_box(settings), _legacy_fernet(settings)), "downgrade")
