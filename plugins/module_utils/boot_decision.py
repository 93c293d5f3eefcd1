# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a network-booting node is told to do: one pure function of its state (PRD 6.3).

::

    node state       action     side effect                       why
    ---------------  ---------  --------------------------------  ---------------------------------
    (unknown MAC)    agent      register as discovered, rotate    discovery on: inventory it now
    (unknown MAC)    ignore     -                                 discovery off
    discovered       agent      rotate token (inventory scope)    no hardware facts yet: inventory
    discovered+facts discover   -                                 no workflow yet: boot local / wait
    pending          install    -> installing, mint token         the admin asked for this install
    installing       install    rotate token                      the install restarted (Rule A)
    installed        local      -                                 Rule B: boot the local disk
    active           local      -                                 Rule B
    failed           local      -                                 Rule C: only an admin retries
    retired          ignore     -                                 retired nodes get nothing
    deprovisioning   agent      rotate token                      the agent wipes the disks
    migrating        agent      rotate token                      the agent images the disks

A caller that already holds a valid node token (the running agent asking for its tasks)
keeps its token: nothing is rotated. An inventory boot (mode "inventory", MAAS'
"commissioning") runs only the agent's inventory task; its token may only fetch
/api/v1/next and post the inventory (services/inventory.py). "Facts" means the node's
hardware carries the collected marker (services/inventory.py). Rule C holds by
construction: no row of the table moves a node into pending; only an admin's transition does.

This is the one copy of the table: the controller's check-in (``pureboot.boot.decision``)
and the ``boot_config`` module (rendering configs for a site's own TFTP server) both
decide with it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from dataclasses import dataclass, replace
from typing import Optional, Tuple

#: States in which a node is expected to network-boot into PureBoot (PRD Rule E).
PROVISIONING_STATES = frozenset({"discovered", "pending", "installing", "deprovisioning", "migrating"})

INSTALL, LOCAL, DISCOVER, IGNORE, AGENT = "install", "local", "discover", "ignore", "agent"
ACTIONS = (INSTALL, LOCAL, DISCOVER, IGNORE, AGENT)

# Token handling per decision.
MINT, ROTATE, KEEP, NONE = "mint", "rotate", "keep", "none"
# What an agent boot is for: None (the workflow's tasks) or INVENTORY (hardware facts only).
INVENTORY = "inventory"


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str
    register: bool = False  # create the node (state discovered)
    transition: Optional[str] = None  # target state to move the node to now
    token: str = NONE  # MINT (via the transition's effect), ROTATE, KEEP or NONE
    mode: Optional[str] = None  # INVENTORY: the agent only inventories (discovered nodes)

    @property
    def boots_network(self) -> bool:
        """True when the node boots a kernel from us (installer or agent)."""
        return self.action in (INSTALL, AGENT)


_TABLE: dict[str, Decision] = {
    "discovered": Decision(DISCOVER, "discovered: hardware inventoried, waiting for an admin to assign "
                           "a workflow; booting local"),
    "pending": Decision(INSTALL, "pending: starting the install the admin asked for",
                        transition="installing", token=MINT),
    "installing": Decision(INSTALL, "installing: the install boots again", token=ROTATE),
    "installed": Decision(LOCAL, "installed: boot from the local disk (Rule B)"),
    "active": Decision(LOCAL, "active: boot from the local disk (Rule B)"),
    "failed": Decision(LOCAL, "failed: boot from the local disk until an admin retries (Rule C)"),
    "retired": Decision(IGNORE, "retired: network boot refused"),
    "deprovisioning": Decision(AGENT, "deprovisioning: boot the agent to wipe the disks", token=ROTATE),
    "migrating": Decision(AGENT, "migrating: boot the agent to image the disks", token=ROTATE),
}
KNOWN_STATES = frozenset(_TABLE)
#: Key in a node's ``hardware`` facts that says its inventory was collected.
INVENTORY_MARKER = "inventoried_at"

_INVENTORY = Decision(AGENT, "discovered: boot the agent to inventory the hardware", token=ROTATE,
                      mode=INVENTORY)
_UNKNOWN_DISCOVER = Decision(AGENT, "unknown MAC: registered as discovered; booting the agent to inventory it",
                             register=True, token=ROTATE, mode=INVENTORY)
_UNKNOWN_IGNORE = Decision(IGNORE, "unknown MAC and discovery is off: ignored")


def decide(state: Optional[str], *, discovery: bool, has_token: bool = False,
           inventoried: bool = True) -> Decision:
    """The decision for a node in `state` (None: MAC not registered).

    `has_token`: the caller authenticated with the node's valid token, so the token
    it holds must keep working (no rotation, no new install).
    `inventoried`: the node's hardware facts were collected (matters for discovered only).
    """
    if state is None:
        return _UNKNOWN_DISCOVER if discovery else _UNKNOWN_IGNORE
    decision = _INVENTORY if state == "discovered" and not inventoried else _TABLE.get(state)
    if decision is None:
        return Decision(IGNORE, f"{state}: no boot rule for this state")
    if has_token and decision.token in (ROTATE, MINT):
        return replace(decision, reason=decision.reason + " (token holder: token kept)", token=KEEP,
                       transition=None, register=False)
    return decision


def unavailable() -> Decision:
    """Rule D: the controller cannot decide in time. Local disk is always safe."""
    return Decision(LOCAL, "controller unavailable: boot from the local disk (Rule D)")


def serves_dhcp(state: Optional[str], *, discovery: bool) -> Tuple[bool, str]:
    """Rule E: answer DHCP/PXE only for nodes that are meant to network-boot now."""
    if state is None:
        return (True, "unknown MAC, discovery on") if discovery else (False, "unknown MAC, discovery off")
    if state in PROVISIONING_STATES:
        return True, f"{state} is a provisioning state"
    return False, f"{state} is not a provisioning state (Rule E)"
