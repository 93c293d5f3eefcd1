# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EFI boot entries as efibootmgr shows them: parsing, name resolution and the planned BootOrder."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ENTRY = re.compile(r"^Boot([0-9A-Fa-f]{4})(\*?)\s(.*)$")
NUMBER = re.compile(r"^(?:Boot)?([0-9A-F]{4})$", re.IGNORECASE)
# Old efibootmgr separates label and device path with spaces only; these start a device path.
DEVICE_PATH = re.compile(r"\s+((?:HD|PciRoot|PcieRoot|Pci|Acpi|ACPI|PCI|FvVol|FvFile|VenHw|VenMsg|VenMedia|MAC|BBS|"
                         r"Uri|File|USB|UsbClass|Sata|NVMe|Scsi|Ata|MBR|CDROM|BluetoothLE)\(.*)$")


class EfiError(Exception):
    pass


def empty_state():
    return {"current": None, "next": None, "order": [], "entries": {}}


def parse(text):
    """BootCurrent, BootNext, BootOrder and the Boot#### entries of efibootmgr's listing
    (plain or -v; device paths after a tab, or after spaces with old versions)."""
    state = empty_state()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key == "BootCurrent":
            state["current"] = value.strip().upper() or None
        elif sep and key == "BootNext":
            state["next"] = value.strip().upper() or None
        elif sep and key == "BootOrder":
            state["order"] = [n.strip().upper() for n in value.split(",") if n.strip()]
        else:
            match = ENTRY.match(line)
            if not match:
                continue
            rest, path = match.group(3), ""
            if "\t" in rest:
                rest, path = rest.split("\t", 1)
            else:
                found = DEVICE_PATH.search(rest)
                if found:
                    rest, path = rest[:found.start()], found.group(1)
            number = match.group(1).upper()
            state["entries"][number] = {"number": number, "label": rest.strip(), "active": match.group(2) == "*",
                                        "path": path.strip()}
    return state


def known_numbers(state):
    """Every entry, those in BootOrder first and in its order."""
    rest = sorted(n for n in state["entries"] if n not in state["order"])
    return [n for n in state["order"] if n in state["entries"]] + rest


def resolve(state, name):
    """Entry numbers ``name`` stands for: a Boot#### number (hex) when such an entry exists, else
    every entry with that label (BootOrder order first). Empty when there is none."""
    text = str(name).strip()
    match = NUMBER.match(text)
    if match and match.group(1).upper() in state["entries"]:
        return [match.group(1).upper()]
    return [n for n in known_numbers(state) if state["entries"][n]["label"] == text]


def resolve_all(state, names, what):
    numbers = []
    for name in names:
        found = resolve(state, name)
        if not found:
            have = ", ".join("%s (%s)" % (state["entries"][n]["label"], n) for n in known_numbers(state)) or "none"
            raise EfiError("%s: no boot entry %r (entries: %s)" % (what, name, have))
        numbers.extend(n for n in found if n not in numbers)
    return numbers


def planned_order(state, first):
    """``first`` in that order, then the rest of BootOrder in its relative order."""
    return list(first) + [n for n in state["order"] if n not in first]


def free_number(state):
    used = set(int(n, 16) for n in state["entries"])
    number = 0
    while number in used:
        number += 1
    return "%04X" % number


def describe(state):
    """BootOrder as labels, one a line, then BootNext (the diff's before/after)."""
    lines = ["%s (%s)%s" % (state["entries"].get(n, {}).get("label", "?"), n,
                            "" if state["entries"].get(n, {}).get("active", True) else " inactive")
             for n in state["order"]]
    if state["next"]:
        lines.append("BootNext: %s (%s)" % (state["entries"].get(state["next"], {}).get("label", "?"), state["next"]))
    return "\n".join(lines) + "\n"


def summary(state):
    return [{"number": n, "label": state["entries"].get(n, {}).get("label"),
             "active": state["entries"].get(n, {}).get("active")} for n in state["order"]]


# What each efibootmgr change does to the state, for check mode's plan.
def simulate_create(state, label, path):
    number = free_number(state)
    state["entries"][number] = {"number": number, "label": label, "active": True, "path": path}
    state["order"].insert(0, number)  # efibootmgr -c puts the new entry first
    return number


def simulate_delete(state, number):
    state["entries"].pop(number, None)
    state["order"] = [n for n in state["order"] if n != number]  # efibootmgr -B drops it from BootOrder too
