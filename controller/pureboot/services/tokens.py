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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def mint_token(node: Node) -> str:
    """Give `node` a new token (the previous one stops working) and return it."""
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    node.install_token_hash = token_hash(token)
    node.install_token_issued_at = utcnow()
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
        .values(install_token_hash=token_hash(token), install_token_issued_at=utcnow())
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
    return node


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
