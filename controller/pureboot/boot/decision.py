"""What a network-booting node is told to do (PRD 6.3): the collection's decision table.

The table lives in ``plugins/module_utils/boot_decision.py`` so that the controller and
the ``boot_config`` module decide with the same code; this module is its controller name.
"""

from __future__ import annotations

from ..shared import boot_decision

Decision = boot_decision.Decision
decide, unavailable, serves_dhcp = boot_decision.decide, boot_decision.unavailable, boot_decision.serves_dhcp
INSTALL, LOCAL, DISCOVER, IGNORE, AGENT = (boot_decision.INSTALL, boot_decision.LOCAL, boot_decision.DISCOVER,
                                           boot_decision.IGNORE, boot_decision.AGENT)
ACTIONS = boot_decision.ACTIONS
MINT, ROTATE, KEEP, NONE = boot_decision.MINT, boot_decision.ROTATE, boot_decision.KEEP, boot_decision.NONE
INVENTORY = boot_decision.INVENTORY
