# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A declared GPT/MBR layout in exact sectors, compared with and written by sfdisk."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MiB = 1024 * 1024
ALIGN = MiB  # every partition starts on a MiB boundary, as fdisk/parted do
GPT_TAIL_SECTORS = 33  # backup partition entries (32 sectors of 128 x 128 bytes) + backup header
UNITS = {"": MiB, "k": 1024, "kib": 1024, "m": MiB, "mib": MiB, "g": 1024 * MiB, "gib": 1024 * MiB,
         "t": MiB * MiB, "tib": MiB * MiB, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4}
GPT_TYPES = {
    "efi": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
    "linux": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
    "swap": "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
    "bios_grub": "21686148-6449-6E6F-744E-656564454649",
    "lvm": "E6D6D379-F507-44C2-A23C-238F2A3DF928",
    "raid": "A19D880F-05FC-4D3B-A006-743F0F84911E",
    "msr": "E3C9E316-0B5C-4DB8-817D-F92DF00215AE",
    "basic_data": "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
}
MBR_TYPES = {"efi": "ef", "linux": "83", "swap": "82", "lvm": "8e", "raid": "fd", "basic_data": "7"}
GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


class LayoutError(Exception):
    pass


def table_label(name):
    """sfdisk's name of the table type: gpt or dos."""
    name = (name or "gpt").lower()
    if name in ("mbr", "msdos", "dos"):
        return "dos"
    if name == "gpt":
        return "gpt"
    raise LayoutError("unknown partition table type %r (gpt or mbr)" % name)


def type_code(label, name):
    name = str(name or "linux")
    if label == "gpt":
        if GUID.match(name):
            return name.upper()
        if name.lower() in GPT_TYPES:
            return GPT_TYPES[name.lower()]
        raise LayoutError("unknown GPT partition type %r (%s, or a GUID)" % (name, ", ".join(sorted(GPT_TYPES))))
    if name.lower() in MBR_TYPES:
        return MBR_TYPES[name.lower()]
    if re.match(r"^(0x)?[0-9A-Fa-f]{1,2}$", name):
        return "%x" % int(name, 16)
    raise LayoutError("unknown MBR partition type %r (%s, or a hex byte)" % (name, ", ".join(sorted(MBR_TYPES))))


def size_bytes(text, disk_bytes):
    """Bytes for '512MiB', '2GiB', '1.5G', '25%' (of the disk); None for 'rest'."""
    text = str(text).strip().lower()
    if text in ("rest", "100%free", "fill", "-1", ""):
        return None
    match = re.match(r"^(\d+(?:\.\d+)?)\s*(%|[kmgt]i?b?)?$", text)
    if not match:
        raise LayoutError("cannot read partition size %r (e.g. 512MiB, 20GiB, 25%%, rest)" % text)
    number, unit = float(match.group(1)), match.group(2) or ""
    if unit == "%":
        return int(disk_bytes * number / 100) // MiB * MiB
    return int(number * UNITS[unit])


def plan(label, partitions, disk_bytes, sector=512):
    """The declared partitions as dicts with exact start/size in sectors."""
    if label == "dos" and len(partitions) > 4:
        raise LayoutError("an MBR table holds at most 4 (primary) partitions; use gpt")
    last_lba = disk_bytes // sector - 1 - (GPT_TAIL_SECTORS if label == "gpt" else 0)
    align = ALIGN // sector
    start = align
    out = []
    for number, part in enumerate(partitions, 1):
        wanted = size_bytes(part.get("size", "rest"), disk_bytes)
        if wanted is None and number != len(partitions):
            raise LayoutError("only the last partition may take the rest of the disk")
        size = (last_lba - start + 1) if wanted is None else -(-wanted // sector)
        if size <= 0 or start + size - 1 > last_lba:
            raise LayoutError("partition %d (%s) does not fit on the disk (%d bytes)"
                              % (number, part.get("size"), disk_bytes))
        ptype = part.get("type") or ("swap" if part.get("fs") == "swap" else "linux")
        if label == "dos" and str(ptype).lower() == "bios_grub":
            raise LayoutError("bios_grub partitions exist only on GPT")
        out.append({"number": number, "start": start, "size": size, "type": type_code(label, ptype),
                    "name": part.get("label") or "", "fs": part.get("fs") or "none",
                    "bootable": bool(part.get("bootable"))})
        start = -(-(start + size) // align) * align
    return out


def current(table):
    """``sfdisk --json`` partitions in the same shape as plan()'s."""
    if not table:
        return None, []
    label = table.get("label")
    parts = []
    for number, part in enumerate(table.get("partitions", []), 1):
        ptype = part.get("type", "")
        parts.append({"number": number, "start": part["start"], "size": part["size"],
                      "type": ptype.upper() if label == "gpt" else ptype.lower().lstrip("0") or "0",
                      "name": part.get("name", ""), "bootable": bool(part.get("bootable")),
                      "node": part.get("node")})
    return label, parts


def table_matches(label, wanted, have_label, have):
    if label != have_label or len(wanted) != len(have):
        return False
    for want, got in zip(wanted, have):
        keys = ("start", "size", "type") + (("name",) if label == "gpt" else ("bootable",))
        if any(want[k] != got[k] for k in keys):
            return False
    return True


def script(label, parts):
    """sfdisk input that writes exactly ``parts``."""
    lines = ["label: %s" % label, "unit: sectors"]
    for part in parts:
        line = "start=%d, size=%d, type=%s" % (part["start"], part["size"], part["type"])
        if label == "gpt" and part.get("name"):
            line += ', name="%s"' % part["name"].replace('"', "")
        if label == "dos" and part.get("bootable"):
            line += ", bootable"
        lines.append(line)
    return "\n".join(lines) + "\n"
