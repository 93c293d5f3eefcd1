"""Credentials: stored encrypted; changing or deleting a secret is a four-eye action.

Other parts of PureBoot read a secret only through :func:`reveal`, which audits the access.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..errors import Invalid, NotFound
from ..models import CREDENTIAL_KINDS, Credential
from ..secrets import box
from . import approvals, audit


def get(session: Session, credential_id: int) -> Credential:
    row = session.get(Credential, credential_id)
    if row is None:
        raise NotFound(f"credential {credential_id} not found")
    return row


def check_secrets(kind: str, secrets: dict[str, str], *, creating: bool) -> None:
    allowed = CREDENTIAL_KINDS[kind]
    unknown = sorted(set(secrets) - set(allowed))
    if unknown:
        raise Invalid(f"{kind} credentials take secrets {', '.join(allowed)}",
                      errors={"secrets": {name: [f"not a {kind} secret"] for name in unknown}})
    if creating and allowed[0] not in secrets:
        raise Invalid(f"a {kind} credential needs secrets.{allowed[0]}",
                      errors={"secrets": {allowed[0]: ["required"]}})


def set_secrets(row: Credential, secrets: dict[str, str]) -> None:
    row.secret_encrypted = box().encrypt_json(secrets)
    row.secret_fields = sorted(secrets)


def create(session: Session, data: dict[str, Any]) -> Credential:
    secrets = data.pop("secrets", {}) or {}
    check_secrets(data["kind"], secrets, creating=True)
    row = Credential(**data)
    set_secrets(row, secrets)
    session.add(row)
    session.flush()
    audit.record("credential.create", target=("credential", row.id), session=session,
                 details={"name": row.name, "kind": row.kind, "secret_fields": row.secret_fields})
    return row


def reveal(session: Session, credential_id: int, purpose: str) -> dict[str, str]:
    """The decrypted secrets, for use by jobs/drivers. Every call is audited."""
    row = get(session, credential_id)
    audit.record("credential.access", target=("credential", row.id), details={"purpose": purpose})
    return box().decrypt_json(row.secret_encrypted) if row.secret_encrypted else {}


# -- four-eye actions ---------------------------------------------------------------------

def _prepare_update(session: Session, target_id: Any, payload: dict[str, Any]) -> approvals.Plan:
    row = get(session, _int(target_id))
    return approvals.Plan("credential", str(row.id), {"secret_fields": payload.get("secret_fields", [])},
                          f"replace the secrets of credential {row.name} ({row.kind})")


def _execute_update(session: Session, approval, principal) -> dict[str, Any]:
    row = get(session, int(approval.target_id))
    if approval.secret_payload_encrypted is None:
        raise Invalid("the request carries no secret")
    secrets = box().decrypt_json(approval.secret_payload_encrypted)
    check_secrets(row.kind, secrets, creating=True)
    set_secrets(row, secrets)
    return {"credential": row.id, "secret_fields": row.secret_fields}


def _prepare_delete(session: Session, target_id: Any, payload: dict[str, Any]) -> approvals.Plan:
    row = get(session, _int(target_id))
    return approvals.Plan("credential", str(row.id), {"name": row.name},
                          f"delete credential {row.name} ({row.kind})")


def _execute_delete(session: Session, approval, principal) -> dict[str, Any]:
    row = get(session, int(approval.target_id))
    session.delete(row)
    return {"credential": int(approval.target_id), "deleted": True}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid("target_id must be a numeric id", errors={"target_id": ["numeric id"]}) from None


approvals.action("credential.update", _prepare_update, _execute_update)
approvals.action("credential.delete", _prepare_delete, _execute_delete)
