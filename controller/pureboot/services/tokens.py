"""Per-node install tokens (PRD 12): what a booting installer or agent proves itself with.

A token is 256 random bits, shown once (in the node's boot config) and stored only as
its sha256. It exists while the node is in a token state (installing, deprovisioning,
migrating); any state change out of those clears it, whichever code path changes it.

A discovered node that boots the agent for its inventory gets a token of narrower scope:
it opens only /api/v1/next and /api/v1/report (which accept only the inventory from a
discovered node), never the node principal of api/guard.py (images, templates). It dies
when the node leaves discovered (any transition goes to a non-token state) and when the
inventory is stored (services/inventory.py).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from .. import lifecycle
from ..errors import Conflict, Unauthorized
from ..models import Node, utcnow

TOKEN_STATES = frozenset({lifecycle.State.INSTALLING, lifecycle.State.DEPROVISIONING,
                          lifecycle.State.MIGRATING})
#: Inventory-scope tokens: /next and the inventory report only.
INVENTORY_STATES = frozenset({lifecycle.State.DISCOVERED})
#: What the boot endpoints (/next, /report) accept; everything else takes TOKEN_STATES only.
BOOT_STATES = TOKEN_STATES | INVENTORY_STATES
TOKEN_BYTES = 32  # 256 bits
# Node tokens share the Authorization header with users' bearer tokens (JWTs); the prefix
# tells them apart, so a user's token on a boot endpoint is never mistaken for a node's.
PREFIX = "pbn_"
USE_RESOLUTION = 10.0  # seconds: how often a token's use is written down


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def mint_token(node: Node) -> str:
    """Give `node` a new token (the previous one stops working) and return it."""
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    node.install_token_hash = token_hash(token)
    node.install_token_issued_at, node.install_token_used_at = utcnow(), None
    return token


def rotate_token(session: Session, node: Node) -> str:
    """Re-mint the token of a node that boots again, last booter wins.

    A plain UPDATE guarded by the state, not the node's version counter: concurrent
    re-boots must not fail each other, but a node that just left its token state
    must not get a token back (Conflict: the caller decides again).
    """
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    result = session.execute(
        update(Node).where(Node.id == node.id, Node.state == node.state, Node.state.in_(BOOT_STATES))
        .values(install_token_hash=token_hash(token), install_token_issued_at=utcnow(), install_token_used_at=None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(f"node {node.id} changed state while booting; deciding again", code="concurrent_update")
    return token


def revoke_token(node: Node) -> None:
    node.install_token_hash = None
    node.install_token_issued_at = None


def verify_node_token(session: Session, token: str | None, states: frozenset[str] = TOKEN_STATES) -> Node:
    """The node this token belongs to, or Unauthorized. Never says which check failed.

    `states`: where the token is valid; the default (install scope) refuses a discovered
    node's inventory token, only the boot endpoints pass BOOT_STATES.
    """
    if not token or len(token) > 512:
        raise Unauthorized("a valid node token is required (Authorization: Bearer <token>)")
    node = session.scalars(select(Node).where(Node.install_token_hash == token_hash(token))).first()
    if node is None or node.state not in states:
        raise Unauthorized("a valid node token is required (Authorization: Bearer <token>)")
    _mark_used(session, node)
    return node


def _mark_used(session: Session, node: Node) -> None:
    """Note that the token is in use (at most every USE_RESOLUTION seconds, without bumping
    the node's version): an anonymous check-in then cannot rotate it (may_rotate)."""
    now = utcnow()
    if node.install_token_used_at and (now - node.install_token_used_at).total_seconds() < USE_RESOLUTION:
        return
    session.execute(update(Node).where(Node.id == node.id, Node.install_token_hash == node.install_token_hash)
                    .values(install_token_used_at=now).execution_options(synchronize_session=False))
    session.commit()  # first thing in the request: nothing else is pending


def may_rotate(node: Node, grace: float) -> bool:
    """Whether an unauthenticated check-in may replace this node's token.

    Anyone on the network can claim a MAC, so a token in use (an agent's run is alive)
    is kept. A token not used yet is replaced freely: one boot fetches several configs
    (pxelinux, grub, iPXE) and the node uses the last. A used token is replaced when the
    node really boots again: the boot service saw its DHCP after the last use (it only
    reports from ``boot_services`` addresses), or the token has been silent for `grace`
    seconds (a site whose DHCP is not ours).
    """
    used = node.install_token_used_at
    if not node.install_token_hash or used is None:
        return True
    if node.dhcp_seen_at is not None and node.dhcp_seen_at >= used:
        return True
    return (utcnow() - used).total_seconds() > grace


def record_dhcp(session: Session, node: Node) -> None:
    """The boot service saw this node's DHCP now (it is booting for real)."""
    session.execute(update(Node).where(Node.id == node.id).values(dhcp_seen_at=utcnow())
                    .execution_options(synchronize_session=False))
    session.commit()


def bearer_token(header: str | None) -> str | None:
    """The node token in an ``Authorization: Bearer <token>`` header, if it holds one.

    Other bearer tokens (a user's JWT) are not node tokens: None.
    """
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(PREFIX):
        return None
    return value


@lifecycle.effect("start_install")
def _mint_on_install(session, node: Node, step, ctx) -> None:
    # The plain token goes to whoever triggered the install (the boot endpoint embeds
    # it); ctx.params is never stored, unlike ctx.details.
    ctx.params["install_token"] = mint_token(node)


@lifecycle.effect("end_install")
def _revoke_on_end(session, node: Node, step, ctx) -> None:
    revoke_token(node)


@event.listens_for(Node.state, "set")
def _revoke_on_leave(node: Node, value, oldvalue, initiator) -> None:
    """Leaving the token states by any transition kills the token.

    Discovered is not in TOKEN_STATES: leaving it (assign -> pending, retire) or landing in
    it kills any token too; its inventory token is set by rotate_token's UPDATE, which
    does not pass through here.
    """
    if value not in TOKEN_STATES:
        node.install_token_hash = None
        node.install_token_issued_at = None
