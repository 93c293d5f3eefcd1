# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import random
import subprocess

import pytest

from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev, wipe
from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.helpers import run_module

MiB = 1024 * 1024


def filled(tmp_path, name="disk.img", size=8 * MiB):
    path = tmp_path / name
    path.write_bytes(b"\xa5" * size)
    subprocess.run(["sfdisk", "-q", str(path)], input="label: gpt\n,2MiB,L\n,,L\n", text=True, check=True)
    return str(path)


def test_quick_clears_the_ends_and_signatures(tmp_path):
    disk = filled(tmp_path)
    res = run_module("disk_wipe", {"disks": [disk], "mode": "quick", "samples": 6})
    assert res.get("changed") is True, res
    ev = res["evidence"][0]
    assert ev["method"] == "quick:wipefs+zero-first-last-MiB" and ev["bytes"] == 2 * MiB
    data = open(disk, "rb").read()
    assert data[:MiB] == b"\0" * MiB and data[-MiB:] == b"\0" * MiB and data[4 * MiB] == 0xA5
    assert subprocess.run(["sfdisk", "--json", disk], capture_output=True, check=False).returncode != 0
    samples = ev["verification"]["samples"]
    assert len(samples) == 6 and ev["verification"]["all_zero"] is True
    assert all(s["offset"] < MiB or s["offset"] >= 7 * MiB for s in samples)


def test_zero_and_secure_overwrite_everything(tmp_path):
    disks = [filled(tmp_path, "a.img"), filled(tmp_path, "b.img", 4 * MiB)]
    res = run_module("disk_wipe", {"disks": disks, "mode": "zero"})
    assert [e["method"] for e in res["evidence"]] == ["zero:overwrite"] * 2, res
    assert [e["bytes"] for e in res["evidence"]] == [8 * MiB, 4 * MiB]
    assert open(disks[0], "rb").read() == b"\0" * 8 * MiB
    filled(tmp_path, "a.img")
    res = run_module("disk_wipe", {"disks": [disks[0]], "mode": "secure"})
    assert res["evidence"][0]["method"] == "secure:shred-random+zero", res
    assert open(disks[0], "rb").read() == b"\0" * 8 * MiB


def test_require_hardware_erase_fails_without_it(tmp_path):
    disk = filled(tmp_path)
    res = run_module("disk_wipe", {"disks": [disk], "mode": "secure", "require_hardware_erase": True})
    assert res["failed"] and "require_hardware_erase" in res["msg"], res
    assert res["evidence"][0]["error"] and open(disk, "rb").read(1) == b"\xa5"  # untouched


def test_check_mode_and_missing_disk(tmp_path):
    disk = filled(tmp_path)
    res = run_module("disk_wipe", {"disks": [disk], "mode": "zero"}, check_mode=True)
    assert res["changed"] and res["evidence"] == [{"disk": disk, "mode": "zero", "size_bytes": 8 * MiB}]
    assert open(disk, "rb").read(1) == b"\xa5"
    res = run_module("disk_wipe", {"disks": [str(tmp_path / "nope")]})
    assert res["failed"] and "not found" in res["msg"]


def test_samples_catch_data_that_is_not_zero(tmp_path):
    path = tmp_path / "d.img"
    path.write_bytes(b"\0" * MiB + b"\x01" * MiB)
    result = wipe.sample_zero(str(path), [(0, 2 * MiB)], 64, rng=random.Random(1))
    assert result["all_zero"] is False
    assert all(s["zero"] == (s["offset"] < MiB) for s in result["samples"])


def test_mounted_disks_are_refused(tmp_path):
    mounts = tmp_path / "mounts"
    disk = filled(tmp_path)
    mounts.write_text("%s /mnt ext4 rw 0 0\n" % disk)
    assert blockdev.mounted_users(disk, str(mounts)) == ["/mnt"]


def test_loop_device_quick_and_secure(tmp_path, loop_device):
    dev = loop_device(filled(tmp_path, size=16 * MiB))
    res = run_module("disk_wipe", {"disks": [dev], "mode": "quick"})
    assert res.get("changed") is True and res["evidence"][0]["verification"]["all_zero"], res
    assert res["evidence"][0]["size_bytes"] == 16 * MiB and "rotational" in res["evidence"][0]
    res = run_module("disk_wipe", {"disks": [dev], "mode": "secure"})
    assert res.get("changed") is True, res
    assert res["evidence"][0]["method"] in ("secure:shred-random+zero", "secure:blkdiscard-secure",
                                            "secure:fallback-zero")
    with open(dev, "rb") as handle:
        assert handle.read(16 * MiB) == b"\0" * 16 * MiB or res["evidence"][0]["method"] == "secure:blkdiscard-secure"
    if os.path.exists("/proc/self/mounts"):
        assert blockdev.mounted_users(dev) == []


class FakeTools:
    """run_command stand-in: records commands, answers from a table of (argv prefix -> rc, out)."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, cmd, **kwargs):
        self.calls.append(cmd)
        for prefix, (rc, out) in self.answers.items():
            if tuple(cmd[:len(prefix)]) == prefix:
                return rc, out, "" if rc == 0 else "not supported"
        return 1, "", "unexpected command"


def which(name):
    return "/usr/sbin/" + name


HDPARM_SUPPORTED = "Security:\n\tMaster password revision code = 65534\n\t\tsupported\n\tnot\tenabled\n" \
                   "\tnot\tlocked\n\tnot\tfrozen\n\tnot\texpired: security count\n\t\tsupported: enhanced erase\n"


def test_hardware_erase_nvme_and_ata_commands():
    tools = FakeTools({("nvme", "format"): (0, "Success formatting namespace:1")})
    wiper = wipe.Wiper(tools, which, "/dev/nvme0n1", hardware_erase=True)
    assert wiper.secure(1000)[0] == "secure:nvme-format-user-data-erase"
    assert tools.calls == [["nvme", "format", "/dev/nvme0n1", "--ses=1", "--force"]]

    tools = FakeTools({("hdparm", "-I"): (0, HDPARM_SUPPORTED), ("hdparm", "--user-master"): (0, "")})
    wiper = wipe.Wiper(tools, which, "/dev/sdz", require_hardware_erase=True)
    assert wiper.secure(1000)[0] == "secure:ata-security-erase"
    assert tools.calls[-1] == ["hdparm", "--user-master", "u", "--security-erase", "PureBoot", "/dev/sdz"]


def test_frozen_ata_disk_fails_when_hardware_erase_is_required():
    tools = FakeTools({("hdparm", "-I"): (0, HDPARM_SUPPORTED.replace("not\tfrozen", "\tfrozen"))})
    wiper = wipe.Wiper(tools, which, "/dev/sdz", require_hardware_erase=True)
    with pytest.raises(wipe.WipeError) as err:
        wiper.secure(1000)
    assert "frozen" in str(err.value)
    assert not any("--security-erase" in c for c in tools.calls)
