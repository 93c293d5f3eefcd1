"""What a job must never show: the secrets it knows, masked before events are stored.

The runner builds one :class:`~pureboot.secrets.Redactor` per job from
- the in-memory secrets handed to the run (``ssh_private_key`` ...) and the plan's SSH key
  (the ephemeral install key of a post-install job);
- extra vars under secret-looking names (the ones the API shows as ``$encrypted$``);
- every secret stored in the controller (credentials, hypervisor passwords, webhook
  secrets): a playbook may get one by another route (pasted into a non-secret variable,
  read from a vault), and masking a value costs nothing when it does not occur.
Stored secrets are only compared against output here, never used, so this is not a
``credentials.reveal`` (no audit entry per job).

The writer applies it to every string of an event (stdout, event_data, task names, keys)
before anything is trimmed or stored, so a truncated field cannot keep half a secret.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Credential, Hypervisor, Webhook
from ..secrets import Redactor, SecretBox, SecretError
from .service import SECRET_KEY_RE

log = logging.getLogger("pureboot.jobs.redaction")


def secret_vars(value: Any, secret: bool = False) -> list[str]:
    """Values under secret-looking keys (any depth; all leaves below such a key)."""
    if isinstance(value, dict):
        return [found for key, item in value.items()
                for found in secret_vars(item, secret or bool(SECRET_KEY_RE.search(str(key))))]
    if isinstance(value, (list, tuple)):
        return [found for item in value for found in secret_vars(item, secret)]
    if secret and value is not None and not isinstance(value, bool):
        return [str(value)]
    return []


def stored_secrets(session: Session, box: SecretBox) -> list[str]:
    """Every secret value kept in the database, decrypted (undecryptable ones skipped)."""
    values: list[str] = []
    tokens = [(box.decrypt_json, t) for t in session.scalars(
        select(Credential.secret_encrypted).where(Credential.secret_encrypted.is_not(None)))]
    tokens += [(box.decrypt, t) for t in session.scalars(
        select(Hypervisor.password_encrypted).where(Hypervisor.password_encrypted.is_not(None)))]
    tokens += [(box.decrypt, t) for t in session.scalars(
        select(Webhook.secret_encrypted).where(Webhook.secret_encrypted.is_not(None)))]
    for opener, token in tokens:
        try:
            plain = opener(token)
        except SecretError:
            log.warning("a stored secret cannot be decrypted; it cannot be masked in job output either")
            continue
        values += [str(v) for v in plain.values() if v] if isinstance(plain, dict) else [plain]
    return values


def build(session: Session, box: SecretBox, extravars: dict[str, Any], ssh_key: str | None,
          secrets: dict[str, str] | None) -> Redactor:
    values = list((secrets or {}).values()) + [ssh_key] + secret_vars(extravars)
    return Redactor(values + stored_secrets(session, box))


def redact_data(value: Any, redact: Redactor) -> Any:
    """`value` with every string (and dict key, and number equal to a secret) masked by `redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k, redact): redact_data(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v, redact) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        masked = redact(str(value))  # a numeric PIN in a module result is still a secret
        return value if masked == str(value) else masked
    return value
