"""Check-in: apply the boot decision to the registry (register, start install, tokens).

The decision itself is the pure table in :mod:`pureboot.boot.decision`; this module only
carries out its side effects, safely under concurrency: two check-ins of one node race
on the node's version counter, the loser re-reads and decides again.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..boot.decision import AGENT, LOCAL, MINT, ROTATE, Decision, decide
from ..errors import Conflict, Unauthorized
from ..models import Node, utcnow
from ..shared import mac as macs
from . import inventory, tokens
from . import nodes as node_service

log = logging.getLogger("pureboot.boot")
ATTEMPTS = 5
ARCHES = {"x86_64": "x86_64", "i386": "i386", "arm64": "arm64", "aarch64": "arm64", "armhf": "armhf",
          "arm32": "armhf", "x86": "i386"}
FIRMWARES = {"bios": "bios", "pcbios": "bios", "uefi": "uefi", "efi": "uefi"}


@dataclass(frozen=True)
class BootRequest:
    """What a booting node tells us about itself (all optional except the MAC)."""

    mac: str | None
    arch: str | None = None
    firmware: str | None = None
    serial: str | None = None
    uuid: str | None = None
    ip: str | None = None

    def facts(self) -> dict[str, Any]:
        """Registration fields for an unknown node, normalised to the node schema."""
        data: dict[str, Any] = {"mac": self.mac}
        if self.arch and self.arch.lower() in ARCHES:
            data["arch"] = ARCHES[self.arch.lower()]
        if self.firmware and self.firmware.lower() in FIRMWARES:
            data["firmware"] = FIRMWARES[self.firmware.lower()]
        if self.serial:
            data["serial"] = self.serial[:128]
        if self.uuid and len(self.uuid) <= 36:
            data["system_uuid"] = self.uuid
        return data


@dataclass
class CheckIn:
    node: Node | None
    decision: Decision
    token: str | None = None  # plain token, only when one was minted or rotated now
    extra: dict[str, Any] = field(default_factory=dict)


def check_in(session: Session, request: BootRequest, *, discovery: bool,
             bearer: str | None = None, peek: bool = False, rotation_grace: float = 600) -> CheckIn:
    """Decide for `request` and apply the decision; commits. `peek`: decide only."""
    if bearer is not None:
        return _token_holder(session, request, bearer)
    for _ in range(ATTEMPTS):
        try:
            return _apply(session, request, discovery, peek, rotation_grace)
        except (Conflict, StaleDataError) as exc:
            session.rollback()
            log.info("check-in of %s raced another request (%s); retrying", request.mac, exc)
            time.sleep(random.uniform(0.005, 0.05))  # de-synchronise the racers
    raise Conflict(f"node {request.mac} is being changed by other requests; retry", code="concurrent_update")


def _token_holder(session: Session, request: BootRequest, bearer: str) -> CheckIn:
    node = tokens.verify_node_token(session, bearer, tokens.BOOT_STATES)
    if request.mac and macs.normalize_mac(request.mac) != node.mac:
        raise Unauthorized("a valid node token is required (Authorization: Bearer <token>)")
    _touch(session, node)
    session.commit()
    return CheckIn(node, decide(node.state, discovery=False, has_token=True,
                                inventoried=inventory.collected(node)))


def _apply(session: Session, request: BootRequest, discovery: bool, peek: bool, rotation_grace: float) -> CheckIn:
    node = node_service.find_by_mac(session, request.mac)
    decision = decide(node.state if node else None, discovery=discovery, inventoried=inventory.collected(node))
    if decision.token == ROTATE and node is not None and not tokens.may_rotate(node, rotation_grace):
        decision = token_in_use(decision)
    if peek:
        return CheckIn(node, decision)
    token = None
    if decision.register:
        node = node_service.create_node(session, request.facts(), actor="boot")
        node.state_reason = "registered by network boot"
    elif decision.transition:
        ctx = node_service.TransitionContext("boot", decision.reason)
        node_service.transition(session, node, decision.transition, ctx, commit=False)
        token = ctx.params.get("install_token") if decision.token == MINT else None
    if node is not None:
        session.flush()
        if decision.token == ROTATE:  # after the flush: a node registered just now has its row
            token = tokens.rotate_token(session, node)
            if decision.action == AGENT:
                _new_run_key(session, node)
        _touch(session, node)
    session.commit()
    return CheckIn(node, decision, token)


def _new_run_key(session: Session, node: Node) -> None:
    """An agent boot (deprovision, inventory) gets a fresh key pair for its job's SSH; an
    install has its key from the start of the install (kept for the post-install job)."""
    from ..jobs import post_install  # the job system imports services: import it when used
    post_install.mint_key(session, post_install.settings(), node)


def token_in_use(decision: Decision) -> Decision:
    """An anonymous check-in for a node whose agent still uses its token: the local disk is
    safe (Rule D's answer) and the running agent's token keeps working."""
    return Decision(LOCAL, decision.reason + "; its install token is in use, not rotated by an "
                    "unauthenticated request: booting local")


def _touch(session: Session, node: Node) -> None:
    """Record the check-in time without bumping the node's version counter."""
    session.execute(update(Node).where(Node.id == node.id).values(last_seen_at=utcnow())
                    .execution_options(synchronize_session=False))


def dhcp_answer(session: Session, mac: str, *, discovery: bool, from_boot_service: bool = False) -> dict[str, Any]:
    """Rule E for the DHCP responder; a boot service asking means the node is booting now."""
    from ..boot.decision import serves_dhcp
    node = node_service.find_by_mac(session, mac)
    if node is not None and from_boot_service and node.install_token_hash:  # only tokens care: no write otherwise
        tokens.record_dhcp(session, node)
    state = node.state if node else None
    serve, reason = serves_dhcp(state, discovery=discovery)
    return {"serve": serve, "state": state, "known": node is not None, "reason": reason,
            "node_id": node.id if node else None}
