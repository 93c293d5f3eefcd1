"""Secrets at rest: Fernet with a key ring (MultiFernet), first key encrypts, all decrypt.

Keys come from PUREBOOT_SECRET_KEYS (comma-separated) or from ``<data_dir>/secret.keys``
(one per line, created 0600 with a fresh key on first use). Rotation puts a new key first
and re-encrypts every stored secret (``pureboot secrets rotate``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .config import Settings

KEY_FILE = "secret.keys"


class SecretError(RuntimeError):
    """A stored secret cannot be decrypted with any configured key."""


def key_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / KEY_FILE


def _write_temp(path: Path, text: str) -> Path:
    """`text` in a fresh 0600 file next to `path` (same file system: link/rename are atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return temp


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically: a reader sees the old key ring or the new one, never half."""
    os.replace(_write_temp(path, text), path)


def _create_key_file(path: Path) -> None:
    """First use: the first process or thread to link its key wins; the others read that one.

    A plain create-and-write would let two workers starting together each keep a different
    key (the second truncating the first), and a reader could see an empty file.
    """
    temp = _write_temp(path, Fernet.generate_key().decode() + "\n")
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()


def load_keys(settings: Settings) -> list[str]:
    if settings.secret_keys.strip():
        return [k.strip() for k in settings.secret_keys.split(",") if k.strip()]
    path = key_file(settings)
    if not path.exists():
        _create_key_file(path)
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


class SecretBox:
    def __init__(self, keys: list[str]):
        if not keys:
            raise SecretError("no secret keys configured")
        self.fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    @classmethod
    def for_settings(cls, settings: Settings) -> "SecretBox":
        return cls(load_keys(settings))

    def encrypt(self, plaintext: str) -> str:
        return self.fernet.encrypt(plaintext.encode()).decode()

    def encrypt_bytes(self, plaintext: str) -> bytes:
        """For the LargeBinary columns (webhook secrets, install keys): the same token, as bytes."""
        return self.encrypt(plaintext).encode()

    def decrypt(self, token: str | bytes) -> str:
        try:
            return self.fernet.decrypt(_token_bytes(token)).decode()
        except InvalidToken:
            raise SecretError("a stored secret cannot be decrypted with the configured keys") from None

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, sort_keys=True))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def rotate(self, token: str | bytes) -> str | bytes:
        """Re-encrypt under the first key; bytes in, bytes out (the column's type is kept)."""
        try:
            rotated = self.fernet.rotate(_token_bytes(token))
        except InvalidToken:
            raise SecretError("a stored secret cannot be decrypted with the configured keys") from None
        return rotated if isinstance(token, (bytes, memoryview)) else rotated.decode()


def _token_bytes(token: str | bytes) -> bytes:
    return token.encode() if isinstance(token, str) else bytes(token)


def box() -> SecretBox:
    """The SecretBox of the current Flask app (built once per app)."""
    from flask import current_app
    cached = current_app.extensions.get("pureboot.secrets")
    if cached is None:
        cached = current_app.extensions["pureboot.secrets"] = SecretBox.for_settings(current_app.config["PUREBOOT"])
    return cached


def encrypted_columns():
    """Every (model, column) holding a Fernet token: what rotation re-encrypts.

    A new secret column must be listed here, or rotation with --drop-old makes it unreadable
    (tests/security/test_secrets.py checks every *_encrypted column of the models is listed).
    """
    from .models import Approval, Credential, Hypervisor, NodeKey, Webhook
    return [(Hypervisor, "password_encrypted"), (Credential, "secret_encrypted"),
            (Approval, "secret_payload_encrypted"), (Webhook, "secret_encrypted"),
            (NodeKey, "private_key_encrypted")]


def rotate(settings: Settings, session, new_key: bool = True) -> int:
    """Put a new key first (file keys only), re-encrypt everything; returns rows rewritten."""
    keys = load_keys(settings)
    from_env = bool(settings.secret_keys.strip())
    if new_key and not from_env:
        keys = [Fernet.generate_key().decode()] + keys
        _write_private(key_file(settings), "\n".join(keys) + "\n")
    secret_box = SecretBox(keys)
    count = 0
    for model, column in encrypted_columns():
        for row in session.query(model).filter(getattr(model, column).is_not(None)):
            setattr(row, column, secret_box.rotate(getattr(row, column)))
            count += 1
    session.flush()
    return count


def drop_old_keys(settings: Settings) -> None:
    """Keep only the current key in the key file; call after the rotation committed."""
    if not settings.secret_keys.strip():
        _write_private(key_file(settings), load_keys(settings)[0] + "\n")


class Redactor:
    """Masks known secret values in text before it is stored or shown (job stdout, events).

    The job runner builds one from the credentials a run uses::

        redact = Redactor(credentials.reveal(session, cred_id, "job 12").values())
        line = redact(line)

    Multi-line secrets (SSH keys) are also masked line by line, so partial echoes are caught,
    and so is each value's JSON-escaped form (Ansible prints results as JSON).
    """

    MASK = "********"
    MIN_LENGTH = 4  # shorter values would mask ordinary words

    def __init__(self, values):
        pieces: set[str] = set()
        for value in values:
            if not isinstance(value, str) or len(value) < self.MIN_LENGTH:
                continue
            pieces.add(value)
            pieces.add(json.dumps(value)[1:-1])  # as echoed inside JSON (quotes, newlines escaped)
            pieces.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 8)
        self.pieces = sorted(pieces, key=len, reverse=True)  # longest first: no half-masked secrets

    def __call__(self, text: str) -> str:
        for piece in self.pieces:
            text = text.replace(piece, self.MASK)
        return text
