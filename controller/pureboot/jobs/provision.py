"""Every provisioning run is a job: the booted agent reports ready, a playbook runs on it.

A run is what the agent boots for (``RUNS``): an install (the workflow version's playbook,
or its task list translated by task_playbook.py), a deprovision (its wipe steps, or the
stock ``pureboot.pureboot.deprovision``) or the inventory of a discovered node (the stock
``pureboot.pureboot.inventory``). The agent never runs a step itself.

- ``ready`` (services/reports.py): the agent, started with sshd and the run's public key,
  reports its address and SSH host key. The host key is pinned on the run's key row and a
  job of purpose ``provision`` is launched against the node, once per run: a second ready
  while that job is alive gets the same job.
- prepare: inventory = the node at the reported address, the agent's /usr/bin/python3,
  pipelining and piped transfers (dropbear has no SFTP); known_hosts holds only the pinned
  key (StrictHostKeyChecking=yes); the private key goes in memory. Extra vars: the
  workflow's variables, ``pureboot_*`` facts of the node, the templates it references
  (``pureboot_images``) and its phone-home credentials (masked in the output).
- events: each task start sets the node's install phase and progress (progress.py).
- finish: what the play published with ``set_stats`` (``pureboot_evidence``,
  ``pureboot_hardware``) is stored with the outcome; a failure names the failing task in
  the node's log and state reason. The agent, polling /next, then reboots or powers off.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import delete, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .. import lifecycle, task_playbook
from ..config import Settings
from ..db import Database
from ..errors import Conflict, Invalid
from ..models import Job, JobEvent, Log, Node, NodeKey, Template
from ..secrets import SecretBox
from ..services import inventory as node_inventory
from ..services import node_scope, phone_home
from ..services.nodes import TransitionContext, transition
from . import inventory as inventory_mod
from . import policy, post_install, progress, runner, service

log = logging.getLogger("pureboot.jobs.provision")
PURPOSE = "provision"
ALIVE = ("new", "pending", "waiting", "running")
S = lifecycle.State
HOST_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                  "ssh-rsa")
AGENT_HOSTVARS = {"ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
                  "ansible_pipelining": True, "ansible_ssh_transfer_method": "piped"}
STOCK_DEPROVISION = "pureboot.pureboot.deprovision"
STOCK_INVENTORY = "pureboot.pureboot.inventory"


@dataclass(frozen=True)
class Run:
    kind: str
    outcome: Optional[str]  # the node's state when the job succeeds (None: it stays)
    after: str  # what the agent does once the job has ended: reboot | poweroff


RUNS = {S.INSTALLING.value: Run("install", S.INSTALLED.value, "reboot"),
        S.DEPROVISIONING.value: Run("deprovision", S.RETIRED.value, "poweroff"),
        S.DISCOVERED.value: Run("inventory", None, "poweroff")}


def agent_run(node: Optional[Node]) -> Optional[Run]:
    """The run the node's agent boot is for, or None (an installer boots, or nothing to do)."""
    run = RUNS.get(node.state) if node is not None else None
    if run is None:
        return None
    if run.kind == "install":
        version = node.workflow_version
        if version is None or any(t.type == "pxe_boot" for t in version.tasks):
            return None
    if run.kind == "inventory" and node_inventory.collected(node):
        return None
    return run


def after(settings: Settings, run: Run) -> str:
    if run.kind == "inventory":
        return settings.discovery_after_inventory
    return run.after


def job_playbook(node: Node, run: Run) -> tuple[str, dict[str, Any]]:
    """(playbook to run, extra vars of its own) for the node's run."""
    version = node.workflow_version
    if run.kind == "inventory":
        return STOCK_INVENTORY, {}
    if run.kind == "deprovision":
        if version is None or not version.tasks:
            return STOCK_DEPROVISION, {"deprovision_method": "secure"}
        return policy.workflow_playbook_ref(version.id, "deprovision"), {}
    if (version.playbook or {}).get("ref"):
        return version.playbook["ref"], {}
    return policy.workflow_playbook_ref(version.id), {}


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
    run = agent_run(node)
    if run is None:
        raise Conflict(f"node {node.id} ({node.state}) has no agent run to start", state=node.state)
    alive = session.scalar(select(Job).where(Job.node_id == node.id, Job.purpose == PURPOSE,
                                             Job.status.in_(ALIVE)).order_by(Job.id.desc()))
    if alive is not None:
        return alive
    key = session.scalar(select(NodeKey).where(NodeKey.node_id == node.id))
    if key is None:
        raise Conflict(f"node {node.id} has no run key (its run was not started here)")
    key.host_key, node.ip_address = host_key, address
    playbook, own_vars = job_playbook(node, run)
    version = node.workflow_version
    what = f"{node.workflow.name} v{version.version}" if version is not None and run.kind != "inventory" else "stock"
    job = service.create_job(
        session, settings, name=f"{run.kind} {inventory_mod.host_name(node)} ({what})", playbook=playbook,
        inventory={"source": "registry", "filter": {"ids": [node.id]}}, launched_by="system",
        launch_type="system", extra_vars={**dict(version.variables or {} if version else {}), **own_vars},
        node_id=node.id, purpose=PURPOSE)
    job_id = job.id
    from .system import get_jobs
    jobs = get_jobs()
    sa_event.listen(session, "after_commit", lambda _s: jobs.submit(job_id), once=True)
    return job


def images(session: Session, settings: Settings, node: Node) -> dict[str, dict[str, Any]]:
    """``pureboot_images``: each template the node's workflow references, by its reference."""
    ids, names = node_scope.template_refs(node)
    out: dict[str, dict[str, Any]] = {}
    for template in session.scalars(select(Template).where(node_scope.template_filter(node))
                                    .order_by(Template.id)):
        entry = {"id": template.id, "url": f"{settings.base_url}/api/v1/templates/{template.id}/content",
                 "sha256": template.sha256, "kind": template.kind}
        if template.id in ids:
            out[task_playbook.image_ref(template.id)] = entry
        if template.name in names:  # the newest of a name wins, as a lookup by name does
            out[template.name] = entry
    return out


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
        credentials = phone_home.credentials(settings, node)
        plan.extravars.update({
            "pureboot_node_id": node.id, "pureboot_mac": node.mac, "pureboot_controller_url": settings.base_url,
            "pureboot_images": images(session, settings, node),
            "pureboot_phone_home": {**credentials, "node": node.id} if credentials else {}})
        for hostvars in plan.inventory["all"]["hosts"].values():
            hostvars.update(AGENT_HOSTVARS)
            hostvars["ansible_ssh_common_args"] = (f"-o StrictHostKeyChecking=yes "
                                                   f"-o UserKnownHostsFile={known_hosts}")
        progress.start(session, job, node, plan.playbook)

    def on_event(self, db: Database, job_id: int, event: dict[str, Any], redact) -> None:
        progress.on_event(db, job_id, event, redact)

    def finish(self, db: Database, settings: Settings, job_id: int) -> None:
        progress.forget(job_id)
        with db.sessions() as session:
            job = session.get(Job, job_id)
            node = session.get(Node, job.node_id) if job.node_id else None
            run = RUNS.get(node.state) if node is not None else None
            if run is None:
                return  # moved on meanwhile (an admin, the watchdog): that decision stands
            stats = artifacts(session, job_id)
            if job.status == "successful":
                _succeeded(session, job, node, run, stats)
            else:
                _failed(session, job, node, run, stats)
            if not _key_still_needed(node, run, job):
                session.execute(delete(NodeKey).where(NodeKey.node_id == node.id))
            session.commit()


def _key_still_needed(node: Node, run: Run, job: Job) -> bool:
    """The run's key pair dies with the run, except an install's that a post-install
    playbook will use on the installed system (jobs/post_install.py deletes it then)."""
    return (run.kind == "install" and job.status == "successful"
            and bool(post_install.post_install_playbook(node)))


def artifacts(session: Session, job_id: int) -> dict[str, Any]:
    """What the play published with set_stats (ansible-runner's ``artifact_data``)."""
    data = session.scalar(select(JobEvent.event_data).where(JobEvent.job_id == job_id,
                                                            JobEvent.event == "playbook_on_stats")
                          .order_by(JobEvent.counter.desc()).limit(1))
    found = (data or {}).get("artifact_data")
    return found if isinstance(found, dict) else {}


def _succeeded(session: Session, job: Job, node: Node, run: Run, stats: dict[str, Any]) -> None:
    if run.kind == "inventory":
        hardware = stats.get("pureboot_hardware")
        if not isinstance(hardware, dict):
            _log(session, node, "error", f"inventory job {job.id} published no pureboot_hardware facts")
            node_inventory.end_inventory(node)
            return
        node_inventory.store_facts(session, node, hardware, actor=f"job:{job.id}",
                                   reason=f"hardware inventory collected by job {job.id}")
        return
    if isinstance(stats.get("pureboot_hardware"), dict):  # the workflow inventoried too
        node.hardware = {**(node.hardware or {}), **stats["pureboot_hardware"]}
    ctx = TransitionContext(actor=f"job:{job.id}", reason=f"{run.kind} job {job.id} succeeded",
                            details={"job_id": job.id})
    if stats.get("pureboot_evidence"):
        ctx.details["evidence"] = stats["pureboot_evidence"]
    node.install_progress, node.install_phase = 100, "done"
    transition(session, node, run.outcome, ctx, commit=False)


def _failed(session: Session, job: Job, node: Node, run: Run, stats: dict[str, Any]) -> None:
    reason = f"{run.kind} job {job.id} {job.status}: {job.job_explanation}"[:2000]
    _log(session, node, "error", reason)
    if run.kind == "inventory":  # a discovered node has no failed state: it stays, without facts
        node_inventory.end_inventory(node)
        return
    ctx = TransitionContext(actor=f"job:{job.id}", reason=reason, details={"job_id": job.id})
    if stats.get("pureboot_evidence"):  # what was done before the failure (disks wiped, ...)
        ctx.details["evidence"] = stats["pureboot_evidence"]
    transition(session, node, S.FAILED.value, ctx, commit=False)


def _log(session: Session, node: Node, level: str, message: str) -> None:
    session.add(Log(node_id=node.id, level=level, source="job", message=message, context={}))


runner.PURPOSES[PURPOSE] = _Provision()
