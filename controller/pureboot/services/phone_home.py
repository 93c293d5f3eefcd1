"""Phone-home: an installed image's first boot tells us it is up (and its IP).

Credential: when an install starts, the node gets a random nonce; its phone-home token
is ``HMAC-SHA256(controller secret, node id + nonce)``. Nothing that equals the token
is stored, /api/v1/next can hand the token to the agent again without rotating
anything (the agent writes it into the image as ``pureboot.json``), and a new install
or leaving the installed/active states kills it.

After a phone-home from an installed node, every function in :data:`POST_INSTALL_HOOKS`
runs: ``hook(session, node) -> bool``; True means "I took over activation" (the jobs
system's post-install playbook moves the node to active or failed when it ends). When no
hook takes the node, it goes installed -> active at once.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from typing import Any, Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from .. import lifecycle
from ..config import Settings
from ..errors import Conflict, Invalid, Unauthorized
from ..models import Node, utcnow
from .nodes import TransitionContext, transition

log = logging.getLogger("pureboot.phone_home")
S = lifecycle.State
#: States in which the phone-home credential stays valid (installing: the agent holds it).
LIVE_STATES = frozenset({S.INSTALLING, S.INSTALLED, S.ACTIVE})
PostInstallHook = Callable[[Session, Node], bool]
POST_INSTALL_HOOKS: list[PostInstallHook] = []
_UNAUTHORIZED = "a valid phone-home token is required (Authorization: Bearer <token>)"


def controller_secret(settings: Settings) -> str:
    """The app's secret key (configured, or the one generated into the data directory)."""
    if settings.secret_key:
        return settings.secret_key
    from ..app import _secret_key  # one implementation of "generate once, keep"
    return _secret_key(settings)


def derive_token(secret: str, node_id: int, nonce: str) -> str:
    message = f"pureboot-phone-home:{node_id}:{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def base_url(settings: Settings) -> str:
    return (getattr(settings, "base_url", None)
            or (settings.public_url or f"http://{settings.listen}")).rstrip("/")


def credentials(settings: Settings, node: Node) -> dict[str, str] | None:
    """``{url, token}`` for the agent (via /api/v1/next), or None outside an install."""
    if not node.phone_home_nonce or node.state not in LIVE_STATES:
        return None
    return {"url": f"{base_url(settings)}/api/v1/nodes/{node.id}/phone-home",
            "token": derive_token(controller_secret(settings), node.id, node.phone_home_nonce)}


def authenticate(session: Session, secret: str, node_id: int, token: str | None) -> Node:
    """The node whose phone-home token this is, or Unauthorized (an unknown node id gets
    the same answer as a wrong token: no enumeration of node ids)."""
    node = session.get(Node, node_id)
    if (node is None or not token or len(token) > 256 or not node.phone_home_nonce
            or node.state not in LIVE_STATES
            or not hmac.compare_digest(token, derive_token(secret, node.id, node.phone_home_nonce))):
        raise Unauthorized(_UNAUTHORIZED)
    return node


def _client_ip(body_ip: str | None, remote: str | None) -> str | None:
    """The address the image reports (it may sit behind NAT), else the peer address."""
    if body_ip:
        try:
            return str(ipaddress.ip_address(body_ip))
        except ValueError:
            raise Invalid("ip is not an IP address", errors={"ip": ["not an IP address"]}) from None
    try:
        return str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        return None


def phone_home(session: Session, node: Node, data: dict[str, Any], remote_addr: str | None) -> dict[str, Any]:
    """Record the phone-home of `node` (already authenticated); activate it if nobody claims it."""
    if node.state == S.INSTALLING:
        raise Conflict("the node has not reported its install as finished yet", state=node.state)
    node.ip_address = _client_ip(data.get("ip"), remote_addr) or node.ip_address
    if data.get("hostname"):
        node.hostname = data["hostname"]
    node.phone_home_at = node.last_seen_at = utcnow()
    claimed_by = None
    if node.state == S.INSTALLED:
        ctx = TransitionContext("node", f"phoned home from {node.ip_address}",
                                details={"phone_home": {"ip": node.ip_address}})
        claimed = _run_hooks(session, node)
        claimed_by = ", ".join(claimed) or None
        if not claimed and node.state == S.INSTALLED:
            transition(session, node, S.ACTIVE.value, ctx, commit=False)
    session.commit()
    return {"node_id": node.id, "state": node.state, "ip_address": node.ip_address,
            "claimed_by": claimed_by}


def _run_hooks(session: Session, node: Node) -> list[str]:
    """Run every hook; the names of those that took over the node's activation."""
    return [getattr(hook, "__name__", repr(hook)) for hook in list(POST_INSTALL_HOOKS) if hook(session, node)]


def run_post_install_hooks(session: Session, node: Node) -> bool:
    """Run every hook; True when one of them took over the node's activation."""
    return bool(_run_hooks(session, node))


@lifecycle.effect("start_install")
def _mint(session: Session, node: Node, step: lifecycle.Transition, ctx: TransitionContext) -> None:
    # A new install, a new credential: a token written into an earlier image stops working.
    node.phone_home_nonce = secrets.token_hex(16)


@event.listens_for(Node.state, "set")
def _revoke_on_leave(node: Node, value, oldvalue, initiator) -> None:
    if value not in LIVE_STATES:
        node.phone_home_nonce = None
