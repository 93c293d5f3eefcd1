# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""boot_order against a fake efibootmgr.

This host has no EFI variables (it is not booted in UEFI mode and efivarfs cannot be written
here), so the real efibootmgr cannot run. FAKE below is the stub for it: a small Python script
that keeps BootCurrent/BootNext/BootOrder and the Boot#### entries in a JSON file, implements
-v, -o, -n, -c (-d -p -L -l), -b N -B and the plain listing in efibootmgr's own output format,
and logs each call so the tests can check that an unchanged run changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import sys

import pytest

from ansible_collections.pureboot.pureboot.plugins.module_utils import efiboot
from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.helpers import run_module

FAKE = r'''#!%(python)s
import json, sys
STATE = %(state)r
with open(STATE) as f:
    s = json.load(f)
args = sys.argv[1:]
s["calls"].append(args)
opts, i = {}, 0
while i < len(args):
    a = args[i]
    if a in ("-o", "-n", "-d", "-p", "-L", "-l", "-b"):
        opts[a] = args[i + 1]; i += 2
    else:
        opts[a] = True; i += 1
if "-B" in opts:
    n = opts["-b"].upper()
    if n not in s["entries"]:
        sys.stderr.write("Could not delete variable: No such file or directory\n"); sys.exit(5)
    del s["entries"][n]
    s["order"] = [o for o in s["order"] if o != n]
if "-c" in opts:
    n = 0
    while "%%04X" %% n in s["entries"]:
        n += 1
    n = "%%04X" %% n
    s["entries"][n] = {"label": opts.get("-L", "Linux"), "active": True,
                       "path": "HD(%%s,GPT,0b6c5dd4-1b1c-4b6a-9f0e-3cd1c0ffee00,0x800,0x100000)/File(%%s)"
                               %% (opts.get("-p", "1"), opts.get("-l", "\\elilo.efi"))}
    s["order"].insert(0, n)
if "-o" in opts:
    s["order"] = [o.upper() for o in opts["-o"].split(",")]
if "-n" in opts:
    if opts["-n"].upper() not in s["entries"]:
        sys.stderr.write("Could not set BootNext: No such file or directory\n"); sys.exit(5)
    s["next"] = opts["-n"].upper()
with open(STATE, "w") as f:
    json.dump(s, f)
out = []
if s["next"]:
    out.append("BootNext: " + s["next"])
out.append("BootCurrent: " + s["current"])
out.append("Timeout: 0 seconds")
out.append("BootOrder: " + ",".join(s["order"]))
for n in sorted(s["entries"]):
    e = s["entries"][n]
    line = "Boot%%s%%s %%s" %% (n, "*" if e["active"] else " ", e["label"])
    out.append(line + ("\t" + e["path"] if "-v" in opts else ""))
print("\n".join(out))
'''

ENTRIES = {
    "0000": {"label": "UiApp", "active": True,
             "path": "FvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)"},
    "0001": {"label": "UEFI QEMU DVD-ROM QM00003 ", "active": True,
             "path": "PciRoot(0x0)/Pci(0x1,0x1)/Ata(1,0,0){auto_created_boot_option}"},
    "0002": {"label": "EFI Internal Shell", "active": False,
             "path": "FvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)"},
    "0003": {"label": "PureBoot network", "active": True,
             "path": "PciRoot(0x0)/Pci(0x3,0x0)/MAC(525400123456,1)/IPv4(0.0.0.0,0,DHCP,0.0.0.0,0.0.0.0,0.0.0.0)"},
}


@pytest.fixture
def fake(tmp_path):
    """(args builder, state reader) over a fake efibootmgr and a fake /sys/firmware/efi."""
    state = tmp_path / "efivars.json"
    state.write_text(json.dumps({"current": "0003", "next": None, "order": ["0001", "0000", "0003", "0002"],
                                 "entries": ENTRIES, "calls": []}))
    script = tmp_path / "efibootmgr"
    script.write_text(FAKE % {"python": sys.executable, "state": str(state)})
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "efi").mkdir()

    def args(**extra):
        base = {"efibootmgr": str(script), "efi_path": str(tmp_path / "efi")}
        base.update(extra)
        return base

    def read():
        return json.loads(state.read_text())

    return args, read


def changing_calls(state):
    return [c for c in state["calls"] if c not in ([], ["-v"])]


def test_order_next_and_create_then_idempotent(fake, tmp_path):
    args, read = fake
    task = args(order=["PureBoot network", "debian"], next_boot="debian",
                entries=[{"label": "debian", "disk": "/dev/vda", "partition": 1,
                          "loader": "\\EFI\\debian\\shimx64.efi"}])
    planned = run_module("boot_order", task, check_mode=True, tmp_path=tmp_path)
    assert planned.get("changed") is True, planned
    assert changing_calls(read()) == []  # check mode changed nothing
    assert [e["label"] for e in planned["boot_order"][:2]] == ["PureBoot network", "debian"]

    res = run_module("boot_order", task, tmp_path=tmp_path)
    assert res.get("changed") is True, res
    state = read()
    assert state["entries"]["0004"]["label"] == "debian" and "shimx64.efi" in state["entries"]["0004"]["path"]
    assert state["order"] == ["0003", "0004", "0001", "0000", "0002"]  # the rest keep their relative order
    assert state["next"] == "0004" and res["boot_next"] == "0004" and res["boot_current"] == "0003"
    assert res["boot_order"][0] == {"number": "0003", "label": "PureBoot network", "active": True}
    assert res["boot_order"][-1] == {"number": "0002", "label": "EFI Internal Shell", "active": False}
    assert planned["boot_order"] == res["boot_order"] and planned["commands"] == res["commands"]
    assert res["diff"]["before"].splitlines()[0] == "UEFI QEMU DVD-ROM QM00003 (0001)"
    assert res["diff"]["after"].splitlines()[:2] == ["PureBoot network (0003)", "debian (0004)"]
    assert res["diff"]["after"].splitlines()[-1] == "BootNext: debian (0004)"

    calls = len(read()["calls"])
    again = run_module("boot_order", task, tmp_path=tmp_path)
    assert again["changed"] is False and again["commands"] == [], again
    assert read()["calls"][calls:] == [[]]  # one listing, nothing else
    assert again["diff"]["before"] == again["diff"]["after"]


def test_numbers_and_absent(fake, tmp_path):
    args, read = fake
    res = run_module("boot_order", args(order=["Boot0002", "0000"]), tmp_path=tmp_path)
    assert res["changed"] and read()["order"] == ["0002", "0000", "0001", "0003"], res
    res = run_module("boot_order", args(order=["0001"], state="absent"), check_mode=True, tmp_path=tmp_path)
    assert res["changed"] and "0001" not in [e["number"] for e in res["boot_order"]]
    assert "0001" in read()["entries"]
    res = run_module("boot_order", args(order=["0001"], entries=[{"label": "UiApp"}], state="absent"),
                     tmp_path=tmp_path)
    assert res["changed"] and read()["order"] == ["0002", "0003"] and sorted(read()["entries"]) == ["0002", "0003"]
    assert ["-b", "0001", "-B"] in res["commands"] and ["-b", "0000", "-B"] in res["commands"]
    res = run_module("boot_order", args(order=["0001"], state="absent"), tmp_path=tmp_path)
    assert res["changed"] is False, res


def test_failures_are_messages(fake, tmp_path):
    args, read = fake
    res = run_module("boot_order", args(order=["windows"]), tmp_path=tmp_path)
    assert res.get("failed") and "no boot entry 'windows'" in res["msg"] and "UiApp (0000)" in res["msg"], res
    res = run_module("boot_order", args(entries=[{"label": "debian"}]), tmp_path=tmp_path)
    assert res.get("failed") and "disk and loader are needed" in res["msg"], res
    res = run_module("boot_order", args(efibootmgr=str(tmp_path / "missing")), tmp_path=tmp_path)
    assert res.get("failed") and "efibootmgr not found" in res["msg"], res
    assert changing_calls(read()) == []


def test_not_uefi(fake, tmp_path):
    args, read = fake
    bios = args(order=["debian"], efi_path=str(tmp_path / "no-efi"))
    res = run_module("boot_order", bios, tmp_path=tmp_path)
    assert res.get("failed") and "not booted in UEFI mode" in res["msg"] and "skip_on_bios" in res["msg"], res
    res = run_module("boot_order", dict(bios, skip_on_bios=True), tmp_path=tmp_path)
    assert res.get("failed") is not True and res["changed"] is False and "skipped" in res["msg"], res
    assert read()["calls"] == []


def test_parse_plain_verbose_and_old_formats(fake, tmp_path):
    args, read = fake
    script = args()["efibootmgr"]
    plain = efiboot.parse(os.popen(script).read())
    verbose = efiboot.parse(os.popen(script + " -v").read())
    for state in (plain, verbose):
        assert state["current"] == "0003" and state["next"] is None
        assert state["order"] == ["0001", "0000", "0003", "0002"]
        assert state["entries"]["0001"]["label"] == "UEFI QEMU DVD-ROM QM00003"
        assert state["entries"]["0002"]["active"] is False and state["entries"]["0003"]["active"] is True
    assert verbose["entries"]["0003"]["path"].startswith("PciRoot(0x0)") and plain["entries"]["0003"]["path"] == ""
    old = efiboot.parse("BootCurrent: 0008\nBootNext: 0010\nTimeout: 0 seconds\nBootOrder: 0010,0003\n"
                        "Boot0003* ATA HDD2: WDC WD5000LPVT    ACPI(a0341d0,0)PCI(1f,2)03120a0001\n"
                        "Boot0010* Windows Boot Manager  HD(2,1f4800,82000,7293)"
                        "File(\\EFI\\Microsoft\\Boot\\bootmgfw.efi)\n"
                        "Boot0014  Setup \n")
    assert old["next"] == "0010" and old["order"] == ["0010", "0003"]
    assert old["entries"]["0003"]["label"] == "ATA HDD2: WDC WD5000LPVT"
    assert old["entries"]["0010"]["label"] == "Windows Boot Manager"
    assert old["entries"]["0010"]["path"].startswith("HD(2,")
    assert old["entries"]["0014"] == {"number": "0014", "label": "Setup", "active": False, "path": ""}
    assert efiboot.resolve(old, "boot0010") == ["0010"] and efiboot.resolve(old, "Setup") == ["0014"]
