"""Post-install playbooks on phone-home, with an ephemeral SSH key per install.

- ``start_install`` (lifecycle effect): mint an ed25519 key pair for the node; the private
  half is stored encrypted (secrets.SecretBox, like every secret at rest) and never
  returned by the API; the public half is what :func:`install_public_key` gives the
  install config (``ssh_authorized_keys``).
- Phone-home hook: when the node's pinned workflow version has ``playbooks.post_install``,
  launch it as a job against the node's IP. The private key goes to ansible-runner in
  memory (ssh-agent FIFO), never into stdout, events or logs.
- After the playbook, whatever its outcome, a second run (same job, events numbered on)
  removes the public key from the node's authorized_keys. When the job ends the key row is
  deleted, and the node goes installed -> active (success) or -> failed (with the job's
  explanation as the reason).
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, object_session

from .. import lifecycle
from ..config import Settings
from ..db import Database
from ..models import Job, Node, NodeKey, utcnow
from ..secrets import SecretBox
from ..services import phone_home
from ..services.nodes import TransitionContext, transition
from . import inventory as inventory_mod
from . import runner, service

log = logging.getLogger("pureboot.jobs.post_install")
PURPOSE = "post_install"
DEFAULT_KEYS_FILE = "~/.ssh/authorized_keys"


#: Set by jobs.system.init_app, for effects that run outside a request.
SETTINGS: Settings | None = None


def settings() -> Settings:
    from flask import current_app, has_app_context
    if has_app_context():
        return current_app.config["PUREBOOT"]
    if SETTINGS is None:
        raise RuntimeError("the job system is not initialised (no settings for the install key)")
    return SETTINGS


def mint_key(session: Session, settings: Settings, node: Node) -> str:
    """Create (or replace) the node's install key pair; returns the public key."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    public = f"{public} pureboot-install-node-{node.id}"
    token = SecretBox.for_settings(settings).encrypt_bytes(pem)
    # No autoflush: the node's UPDATE must reach the database in transition()'s own
    # write, where a concurrent change becomes a 409, not here.
    with session.no_autoflush:
        key = session.scalar(select(NodeKey).where(NodeKey.node_id == node.id))
    if key is None:
        session.add(NodeKey(node=node, public_key=public, private_key_encrypted=token))
    else:
        key.public_key, key.private_key_encrypted, key.created_at = public, token, utcnow()
    return public


@lifecycle.effect("start_install")
def _mint_on_install(session: Session, node: Node, step, ctx) -> None:
    mint_key(session, settings(), node)


def install_public_key(node: Node) -> str | None:
    """The public key the install config puts in ``ssh_authorized_keys`` (None: no key)."""
    session = object_session(node)
    return session.scalar(select(NodeKey.public_key).where(NodeKey.node_id == node.id)) if session else None


def post_install_playbook(node: Node) -> str | None:
    version = node.workflow_version
    return (version.playbooks or {}).get(PURPOSE) if version is not None else None


def launch_post_install(session: Session, node: Node) -> bool:
    """The phone-home hook: launch the post-install job; True when we did."""
    playbook = post_install_playbook(node)
    if not playbook or node.state != lifecycle.State.INSTALLED:
        return False
    from .system import get_jobs
    jobs = get_jobs()
    job = service.create_job(
        session, jobs.settings, name=f"post-install {inventory_mod.host_name(node)}", playbook=playbook,
        inventory={"source": "registry", "filter": {"ids": [node.id]}}, launched_by="system",
        launch_type="system", extra_vars=dict(node.workflow_version.variables or {}), node_id=node.id,
        purpose=PURPOSE)
    if session.scalar(select(NodeKey.id).where(NodeKey.node_id == node.id)) is None:
        log.warning("node %s has no install key; the post-install job will fail to connect", node.id)
    job_id = job.id
    # Submit once the caller's transaction commits: the worker must see the job row.
    sa_event.listen(session, "after_commit", lambda _s: jobs.submit(job_id), once=True)
    return True


phone_home.POST_INSTALL_HOOKS.append(launch_post_install)


def _cleanup_playbook(workdir: Path) -> str:
    """Removes the install key from authorized_keys; run after the post-install playbook
    whatever its outcome (runner.Plan.cleanup_playbook)."""
    plays = [{"name": "PureBoot: remove the install key", "hosts": "all", "gather_facts": False,
              "tasks": [{"name": "Remove the ephemeral install key from authorized_keys",
                         "ansible.builtin.lineinfile": {
                             "path": "{{ pureboot_authorized_keys_file | default('%s') }}" % DEFAULT_KEYS_FILE,
                             "line": "{{ pureboot_install_public_key }}", "state": "absent"}}]}]
    path = workdir / "project" / "pureboot_remove_install_key.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return str(path)


class _PostInstall:
    def prepare(self, session: Session, settings: Settings, job: Job, plan: runner.Plan, workdir: Path) -> None:
        key = session.scalar(select(NodeKey).where(NodeKey.node_id == job.node_id))
        if key is None:
            raise ValueError(f"node {job.node_id} has no ephemeral install key (was the install started here?)")
        playbook = plan.playbook
        if not playbook.startswith("/") and playbook.count(".") < 2:
            raise ValueError(f"post_install playbook {playbook!r}: give an absolute path or a collection FQCN")
        plan.cleanup_playbook = _cleanup_playbook(workdir)
        plan.ssh_key = SecretBox.for_settings(settings).decrypt(key.private_key_encrypted)
        plan.extravars["pureboot_install_public_key"] = key.public_key
        plan.envvars["ANSIBLE_HOST_KEY_CHECKING"] = "false"  # a freshly installed host: new host key
        for hostvars in plan.inventory["all"]["hosts"].values():
            hostvars.setdefault("ansible_user", plan.extravars.get("pureboot_ssh_user", "root"))
            hostvars.setdefault("ansible_ssh_common_args", "-o UserKnownHostsFile=/dev/null")

    def finish(self, db: Database, settings: Settings, job_id: int) -> None:
        with db.sessions() as session:
            job = session.get(Job, job_id)
            session.execute(delete(NodeKey).where(NodeKey.node_id == job.node_id))
            node = session.get(Node, job.node_id) if job.node_id else None
            session.commit()
            if node is None or node.state != lifecycle.State.INSTALLED:
                return
            ctx = TransitionContext(actor=f"job:{job.id}", details={"job_id": job.id})
            if job.status == "successful":
                ctx.reason = "post-install playbook succeeded"
                transition(session, node, lifecycle.State.ACTIVE.value, ctx)
            else:
                ctx.reason = f"post-install job {job.id} {job.status}: {job.job_explanation}"[:2000]
                transition(session, node, lifecycle.State.FAILED.value, ctx)


runner.PURPOSES[PURPOSE] = _PostInstall()
