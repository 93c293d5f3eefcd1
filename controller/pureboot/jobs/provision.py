"""A node's provisioning run is a job: the booted agent reports ready, its workflow's playbook runs.

- ``ready`` (services/reports.py): the agent, started with sshd and the run's public key,
  reports its address and SSH host key. The host key is pinned on the run's key row and a
  job of purpose ``provision`` is launched against the node, once per run: a second ready
  while that job is alive gets the same job.
- prepare: inventory = the node at the reported address, the agent's /usr/bin/python3,
  pipelining and piped transfers (dropbear has no SFTP); known_hosts holds only the pinned
  key (StrictHostKeyChecking=yes); the private key goes in memory. Extra vars are the
  workflow's variables plus ``pureboot_*`` facts of the node.
- finish: successful -> the run's outcome (installing -> installed), anything else ->
  failed with the job's explanation. The agent, polling /next, then boots its disk.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .. import lifecycle
from ..config import Settings
from ..db import Database
from ..errors import Conflict, Invalid
from ..models import Job, Node, NodeKey
from ..secrets import SecretBox
from ..services.nodes import TransitionContext, transition
from . import inventory as inventory_mod
from . import policy, runner, service

log = logging.getLogger("pureboot.jobs.provision")
PURPOSE = "provision"
ALIVE = ("new", "pending", "waiting", "running")
#: node state during the run -> state when its job succeeds
OUTCOME = {lifecycle.State.INSTALLING: lifecycle.State.INSTALLED}
HOST_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                  "ssh-rsa")
AGENT_HOSTVARS = {"ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
                  "ansible_pipelining": True, "ansible_ssh_transfer_method": "piped"}


def runs_playbook(node: Node) -> bool:
    """Whether the node's run is a playbook (else the agent's task list)."""
    version = node.workflow_version
    return version is not None and bool(version.playbook) and node.state in OUTCOME


def job_playbook(node: Node) -> str:
    playbook = node.workflow_version.playbook
    return playbook["ref"] if "ref" in playbook else policy.workflow_playbook_ref(node.workflow_version.id)


def check_ready(address: str | None, host_key: str | None) -> tuple[str, str]:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        raise Invalid("ready needs the agent's address", errors={"address": ["an IP address"]}) from None
    if not inventory_mod.targetable(str(ip)):
        raise Invalid("ready: the address is not routable", errors={"address": [f"{ip} is not a node address"]})
    parts = (host_key or "").split()
    if len(parts) < 2 or parts[0] not in HOST_KEY_TYPES:
        raise Invalid("ready needs the agent's SSH host key",
                      errors={"host_key": [f"'<type> <base64>' with type one of {', '.join(HOST_KEY_TYPES)}"]})
    return str(ip), f"{parts[0]} {parts[1]}"


def on_ready(session: Session, settings: Settings, node: Node, address: str, host_key: str) -> Job:
    """Pin the host key and launch the run's job (or return the one already alive)."""
    if not runs_playbook(node):
        raise Conflict(f"node {node.id} ({node.state}) has no playbook run to start", state=node.state)
    alive = session.scalar(select(Job).where(Job.node_id == node.id, Job.purpose == PURPOSE,
                                             Job.status.in_(ALIVE)).order_by(Job.id.desc()))
    if alive is not None:
        return alive
    key = session.scalar(select(NodeKey).where(NodeKey.node_id == node.id))
    if key is None:
        raise Conflict(f"node {node.id} has no run key (its install was not started here)")
    key.host_key, node.ip_address = host_key, address
    version = node.workflow_version
    job = service.create_job(
        session, settings, name=f"provision {inventory_mod.host_name(node)} ({node.workflow.name} "
        f"v{version.version})", playbook=job_playbook(node),
        inventory={"source": "registry", "filter": {"ids": [node.id]}}, launched_by="system",
        launch_type="system", extra_vars=dict(version.variables or {}), node_id=node.id, purpose=PURPOSE)
    job_id = job.id
    from .system import get_jobs
    jobs = get_jobs()
    sa_event.listen(session, "after_commit", lambda _s: jobs.submit(job_id), once=True)
    return job


class _Provision:
    def prepare(self, session: Session, settings: Settings, job: Job, plan: runner.Plan, workdir: Path) -> None:
        node = session.get(Node, job.node_id)
        key = session.scalar(select(NodeKey).where(NodeKey.node_id == job.node_id))
        if node is None or key is None or not key.host_key:
            raise ValueError(f"node {job.node_id} has no pinned host key: the agent never reported ready")
        known_hosts = workdir / "known_hosts"
        known_hosts.write_text(f"{node.ip_address} {key.host_key}\n")
        plan.ssh_key = SecretBox.for_settings(settings).decrypt(key.private_key_encrypted)
        plan.envvars["ANSIBLE_HOST_KEY_CHECKING"] = "true"
        plan.extravars.update({"pureboot_node_id": node.id, "pureboot_mac": node.mac,
                               "pureboot_controller_url": settings.base_url})
        for hostvars in plan.inventory["all"]["hosts"].values():
            hostvars.update(AGENT_HOSTVARS)
            hostvars["ansible_ssh_common_args"] = (f"-o StrictHostKeyChecking=yes "
                                                   f"-o UserKnownHostsFile={known_hosts}")

    def finish(self, db: Database, settings: Settings, job_id: int) -> None:
        with db.sessions() as session:
            job = session.get(Job, job_id)
            node = session.get(Node, job.node_id) if job.node_id else None
            if node is None or node.state not in OUTCOME:
                return  # moved on meanwhile (an admin, the watchdog): that decision stands
            ctx = TransitionContext(actor=f"job:{job.id}", details={"job_id": job.id})
            if job.status == "successful":
                ctx.reason = f"provisioning job {job.id} succeeded"
                transition(session, node, OUTCOME[node.state].value, ctx)
            else:
                ctx.reason = f"provisioning job {job.id} {job.status}: {job.job_explanation}"[:2000]
                transition(session, node, lifecycle.State.FAILED.value, ctx)


runner.PURPOSES[PURPOSE] = _Provision()
