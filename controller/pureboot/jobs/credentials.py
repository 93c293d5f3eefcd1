"""Stored credentials given to a job run (AWX's "credentials" on a job template).

* ``ssh_key``: the run's SSH key (ansible-runner's in-memory ``ssh_key``); its username
  becomes ``ansible_user``. At most one per template.
* every other kind (``bmc``, ``hypervisor``, ``domain_join``, ``webhook``): the extra var
  ``pureboot_credentials.<name>`` = ``{username, <inputs>, <secret fields>}``.

Secrets are decrypted only at run time (each access audited, like
``services.credentials.reveal``, which needs a request's app; runs have none), go to the
playbook in memory / the 0600 extra-vars file, and are masked in job output.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid
from ..models import Credential
from ..secrets import SecretBox
from ..services import audit


def validate(session: Session, ids: list[int]) -> None:
    """422 unless every id names a stored credential and at most one is an SSH key."""
    rows = session.scalars(select(Credential).where(Credential.id.in_(ids))).all() if ids else []
    missing = sorted(set(ids) - {row.id for row in rows})
    if missing:
        raise Invalid("unknown credential(s)", errors={"credentials": [f"no credential {i}" for i in missing]})
    if sum(row.kind == "ssh_key" for row in rows) > 1:
        raise Invalid("a job takes at most one ssh_key credential",
                      errors={"credentials": ["more than one ssh_key credential"]})


def apply(session: Session, box: SecretBox, job_id: int, ids: list[int], plan) -> None:
    """Put the credentials' values into a run plan (runner.Plan)."""
    named: dict[str, dict[str, Any]] = {}
    for credential_id in ids or ():
        row = session.get(Credential, credential_id)
        if row is None:
            raise ValueError(f"credential {credential_id} was deleted after the job was launched")
        secrets = box.decrypt_json(row.secret_encrypted) if row.secret_encrypted else {}
        audit.append(session, "credential.access", actor="system", target=("credential", row.id),
                     details={"purpose": f"job {job_id}"})
        if row.kind == "ssh_key":
            if secrets.get("passphrase"):
                raise ValueError(f"credential {row.name}: passphrase-protected SSH keys cannot drive jobs yet")
            plan.ssh_key = secrets["private_key"]
            if row.username:
                plan.extravars.setdefault("ansible_user", row.username)
            continue
        named[row.name] = {"username": row.username, **(row.inputs or {}), **secrets}
    if named:
        plan.extravars["pureboot_credentials"] = named
