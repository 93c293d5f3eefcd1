# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardware inventory of a node from /proc and /sys (``root`` lets tests use a fake tree)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

VIRTUAL_DISKS = re.compile(r"^(loop|ram|zram|dm-|md|nbd|sr|fd)\d*")
DMI_FIELDS = ("sys_vendor", "product_name", "product_serial", "product_uuid", "product_version",
              "board_vendor", "board_name", "board_serial", "bios_vendor", "bios_version", "bios_date",
              "chassis_type", "chassis_serial")


def _read(path, default=None):
    try:
        with open(path) as handle:
            value = handle.read().strip()
    except (IOError, OSError, UnicodeDecodeError):
        return default
    return value if value else default


def _join(root, *parts):
    return os.path.join(root, *[p.lstrip("/") for p in parts])


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def cpu(root="/"):
    text = _read(_join(root, "proc/cpuinfo"), "")
    processors, models, sockets, cores = 0, [], set(), set()
    physical = None
    for line in text.splitlines():
        key, dummy, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            processors += 1
        elif key in ("model name", "Model", "cpu model") and value:
            models.append(value)
        elif key == "physical id":
            physical = value
            sockets.add(value)
        elif key == "core id":
            cores.add((physical, value))
    return {"model": models[0] if models else None, "count": processors,
            "sockets": len(sockets) or None, "cores": len(cores) or None, "architecture": os.uname()[4]}


def memory(root="/"):
    for line in (_read(_join(root, "proc/meminfo"), "") or "").splitlines():
        if line.startswith("MemTotal:"):
            return {"total_bytes": int(line.split()[1]) * 1024}
    return {"total_bytes": None}


def disks(root="/"):
    out = []
    base = _join(root, "sys/block")
    for name in _listdir(base):
        if VIRTUAL_DISKS.match(name):
            continue
        sys_dir = os.path.join(base, name)
        size = _read(os.path.join(sys_dir, "size"))
        serial = _read(os.path.join(sys_dir, "device", "serial")) or _read(os.path.join(sys_dir, "serial"))
        out.append({
            "name": name, "path": "/dev/%s" % name,
            "size_bytes": int(size) * 512 if size and size.isdigit() else None,
            "model": _read(os.path.join(sys_dir, "device", "model")),
            "vendor": _read(os.path.join(sys_dir, "device", "vendor")),
            "serial": serial,
            "wwid": _read(os.path.join(sys_dir, "wwid")) or _read(os.path.join(sys_dir, "device", "wwid")),
            "rotational": _read(os.path.join(sys_dir, "queue", "rotational")) == "1",
            "removable": _read(os.path.join(sys_dir, "removable")) == "1",
            "read_only": _read(os.path.join(sys_dir, "ro")) == "1",
            "transport": "nvme" if name.startswith("nvme") else ("virtio" if name.startswith("vd") else None),
        })
    return out


def _driver(dev_dir):
    link = os.path.join(dev_dir, "device", "driver")
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def nics(root="/"):
    out = []
    base = _join(root, "sys/class/net")
    for name in _listdir(base):
        dev_dir = os.path.join(base, name)
        if name == "lo" or not os.path.exists(os.path.join(dev_dir, "device")):
            continue  # virtual interfaces (bridges, veth, tun) are not hardware
        speed = _read(os.path.join(dev_dir, "speed"))
        carrier = _read(os.path.join(dev_dir, "carrier"))
        out.append({
            "name": name, "mac": _read(os.path.join(dev_dir, "address")),
            "driver": _driver(dev_dir),
            "link": carrier == "1" if carrier is not None else False,
            "operstate": _read(os.path.join(dev_dir, "operstate")),
            "speed_mbps": int(speed) if speed and speed.lstrip("-").isdigit() and int(speed) > 0 else None,
            "mtu": int(_read(os.path.join(dev_dir, "mtu"), "0")) or None,
        })
    return out


def dmi(root="/", dmidecode=None):
    """DMI strings from sysfs; ``dmidecode(keyword)`` fills what sysfs hides (serials need root)."""
    base = _join(root, "sys/class/dmi/id")
    values = dict((field, _read(os.path.join(base, field))) for field in DMI_FIELDS)
    if dmidecode:
        for field, keyword in (("product_serial", "system-serial-number"), ("sys_vendor", "system-manufacturer"),
                               ("product_name", "system-product-name"), ("product_uuid", "system-uuid")):
            if not values[field]:
                values[field] = dmidecode(keyword)
    return {"vendor": values["sys_vendor"], "product": values["product_name"], "serial": values["product_serial"],
            "uuid": values["product_uuid"], "version": values["product_version"],
            "board": {"vendor": values["board_vendor"], "name": values["board_name"],
                      "serial": values["board_serial"]},
            "bios": {"vendor": values["bios_vendor"], "version": values["bios_version"], "date": values["bios_date"]},
            "chassis": {"type": values["chassis_type"], "serial": values["chassis_serial"]}}


def firmware(root="/"):
    uefi = os.path.isdir(_join(root, "sys/firmware/efi"))
    return {"mode": "uefi" if uefi else "bios",
            "efi_bits": _read(_join(root, "sys/firmware/efi/fw_platform_size")) if uefi else None}


def gather(root="/", dmidecode=None):
    return {"cpu": cpu(root), "memory": memory(root), "disks": disks(root), "nics": nics(root),
            "dmi": dmi(root, dmidecode), "firmware": firmware(root)}
