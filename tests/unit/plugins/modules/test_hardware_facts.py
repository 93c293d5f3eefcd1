# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.pureboot.pureboot.plugins.module_utils import hwfacts
from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.helpers import run_module

CPUINFO = """processor\t: 0
model name\t: Intel(R) Xeon(R) Silver 4314
physical id\t: 0
core id\t\t: 0

processor\t: 1
model name\t: Intel(R) Xeon(R) Silver 4314
physical id\t: 0
core id\t\t: 1

processor\t: 2
model name\t: Intel(R) Xeon(R) Silver 4314
physical id\t: 0
core id\t\t: 0
"""


def put(root, path, text):
    full = root / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(text + "\n")


def fake_host(root):
    put(root, "proc/cpuinfo", CPUINFO)
    put(root, "proc/meminfo", "MemTotal:       16384000 kB\nMemFree: 1 kB")
    for name, size, rot, model, serial in (("sda", 1953525168, "1", "WDC WD10EZEX", "WD-123"),
                                           ("nvme0n1", 1000215216, "0", "Samsung SSD 980", None)):
        put(root, "sys/block/%s/size" % name, str(size))
        put(root, "sys/block/%s/queue/rotational" % name, rot)
        put(root, "sys/block/%s/removable" % name, "0")
        put(root, "sys/block/%s/device/model" % name, model + "   ")
        if serial:
            put(root, "sys/block/%s/device/serial" % name, serial)
    put(root, "sys/block/nvme0n1/serial", "S64DNX0R")
    put(root, "sys/block/nvme0n1/ro", "1")
    put(root, "sys/block/loop0/size", "100")
    put(root, "sys/bus/pci/drivers/igb/.keep", "")
    put(root, "sys/devices/pci0/eth/.keep", "")
    for name, mac, carrier, speed in (("eno1", "3c:ec:ef:00:00:01", "1", "1000"),
                                      ("eno2", "3c:ec:ef:00:00:02", "0", "-1")):
        put(root, "sys/class/net/%s/address" % name, mac)
        put(root, "sys/class/net/%s/carrier" % name, carrier)
        put(root, "sys/class/net/%s/speed" % name, speed)
        put(root, "sys/class/net/%s/mtu" % name, "1500")
        put(root, "sys/class/net/%s/operstate" % name, "up" if carrier == "1" else "down")
        os.symlink(str(root / "sys/devices/pci0/eth"), str(root / "sys/class/net" / name / "device"))
    os.symlink(str(root / "sys/bus/pci/drivers/igb"), str(root / "sys/devices/pci0/eth/driver"))
    put(root, "sys/class/net/br0/address", "52:54:00:00:00:99")  # no device link: virtual
    put(root, "sys/class/dmi/id/sys_vendor", "Supermicro")
    put(root, "sys/class/dmi/id/product_name", "SYS-1029P-WTR")
    put(root, "sys/firmware/efi/fw_platform_size", "64")


def test_inventory_from_sys_and_proc(tmp_path):
    fake_host(tmp_path)
    facts = hwfacts.gather(str(tmp_path), dmidecode={"system-serial-number": "A1234"}.get)
    assert facts["cpu"]["model"] == "Intel(R) Xeon(R) Silver 4314"
    assert facts["cpu"]["count"] == 3 and facts["cpu"]["sockets"] == 1 and facts["cpu"]["cores"] == 2
    assert facts["memory"]["total_bytes"] == 16384000 * 1024
    disks = {d["name"]: d for d in facts["disks"]}
    assert sorted(disks) == ["nvme0n1", "sda"]
    assert disks["sda"]["rotational"] is True and disks["sda"]["size_bytes"] == 1953525168 * 512
    assert disks["sda"]["model"] == "WDC WD10EZEX" and disks["sda"]["serial"] == "WD-123"
    assert disks["nvme0n1"]["rotational"] is False and disks["nvme0n1"]["serial"] == "S64DNX0R"
    assert disks["nvme0n1"]["transport"] == "nvme"
    assert disks["nvme0n1"]["read_only"] is True and disks["sda"]["read_only"] is False
    nics = {n["name"]: n for n in facts["nics"]}
    assert sorted(nics) == ["eno1", "eno2"]
    assert nics["eno1"] == {"name": "eno1", "mac": "3c:ec:ef:00:00:01", "driver": "igb", "link": True,
                            "operstate": "up", "speed_mbps": 1000, "mtu": 1500}
    assert nics["eno2"]["link"] is False and nics["eno2"]["speed_mbps"] is None
    assert facts["dmi"]["vendor"] == "Supermicro" and facts["dmi"]["serial"] == "A1234"
    assert facts["firmware"] == {"mode": "uefi", "efi_bits": "64"}


def test_bios_host_without_dmi(tmp_path):
    put(tmp_path, "proc/cpuinfo", "processor : 0\n")
    facts = hwfacts.gather(str(tmp_path))
    assert facts["firmware"]["mode"] == "bios" and facts["dmi"]["vendor"] is None
    assert facts["disks"] == [] and facts["nics"] == [] and facts["cpu"]["count"] == 1


def test_module_sets_the_fact_on_this_host():
    res = run_module("hardware_facts", {}, check_mode=True)
    hw = res["ansible_facts"]["pureboot_hardware"]
    assert res["changed"] is False
    assert hw["cpu"]["count"] >= 1 and hw["memory"]["total_bytes"] > 0
    assert hw["firmware"]["mode"] in ("bios", "uefi")
