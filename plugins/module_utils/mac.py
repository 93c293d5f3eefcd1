# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC address parsing shared by the modules, the inventory plugin and the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_HEX12 = re.compile(r"^[0-9a-f]{12}$")
_SEPARATORS = re.compile(r"[\s:\-.]")


def normalize_mac(value):
    """Return ``aa:bb:cc:dd:ee:ff`` for any common spelling of a MAC address.

    Accepts colon, dash and Cisco dotted forms in any case, and the PXELINUX
    ``01-aa-bb-...`` form (hardware type 1 prefix). Raises ValueError otherwise.
    """
    if not isinstance(value, str):
        raise ValueError("MAC address must be a string")
    text = value.strip().lower()
    if text.startswith("01-") and len(text) == 20:
        text = text[3:]
    groups = [g for g in _SEPARATORS.split(text) if g != ""]
    if len(groups) == 6 and all(1 <= len(g) <= 2 for g in groups):
        text = "".join(g.zfill(2) for g in groups)
    elif len(groups) == 3 and all(len(g) == 4 for g in groups):
        text = "".join(groups)
    elif len(groups) == 1:
        text = groups[0]
    else:
        text = ""
    if not _HEX12.match(text):
        raise ValueError("not a MAC address: %r" % (value,))
    return ":".join(text[i:i + 2] for i in range(0, 12, 2))


def reserved_reason(mac):
    """Why a normalized MAC cannot be a node's (broadcast, multicast, all zero), or None.

    No NIC has such an address as its own; a packet claiming one is forged or broken.
    """
    if mac == "00:00:00:00:00:00":
        return "the all-zero MAC is not a NIC's address"
    if mac == "ff:ff:ff:ff:ff:ff":
        return "the broadcast MAC is not a NIC's address"
    if int(mac[:2], 16) & 1:
        return "a multicast MAC (group bit set in the first octet) is not a NIC's address"
    return None


def pxelinux_name(mac):
    """PXELINUX per-host config name: ``01-aa-bb-cc-dd-ee-ff``."""
    return "01-" + normalize_mac(mac).replace(":", "-")
