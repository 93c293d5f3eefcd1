"""Symmetric encryption of secrets at rest (Fernet), keyed from the controller's secret key.

Used for the ephemeral install SSH keys and webhook secrets: database dumps and API
output never contain them in clear.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from .config import Settings


def _fernet(settings: Settings) -> Fernet:
    from .app import _secret_key  # the same key the app signs with
    digest = hashlib.sha256(b"pureboot-at-rest:" + _secret_key(settings).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(settings: Settings, plain: str) -> bytes:
    return _fernet(settings).encrypt(plain.encode())


def decrypt(settings: Settings, token: bytes) -> str:
    try:
        return _fernet(settings).decrypt(bytes(token)).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: the secret key changed since this was stored") from exc
