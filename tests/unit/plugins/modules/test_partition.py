# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess

import pytest

from ansible_collections.pureboot.pureboot.plugins.module_utils import partition_layout as layout
from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.helpers import run_module

MiB = 1024 * 1024
UEFI = [{"size": "8MiB", "type": "efi", "fs": "vfat", "label": "ESP"},
        {"size": "4MiB", "fs": "swap", "label": "swap"},
        {"size": "rest", "type": "linux", "fs": "ext4", "label": "root"}]


def image(tmp_path, size=64 * MiB):
    path = tmp_path / "disk.img"
    with open(str(path), "wb") as handle:
        handle.truncate(size)
    return str(path)


def sfdisk_json(device):
    return json.loads(subprocess.run(["sfdisk", "--json", device], capture_output=True, text=True,
                                     check=True).stdout)["partitiontable"]


def test_plan_sizes_and_alignment():
    parts = layout.plan("gpt", [{"size": "1MiB"}, {"size": "25%"}, {"size": "rest"}], 100 * MiB)
    assert [p["start"] for p in parts] == [2048, 4096, 4096 + 25 * 2048]
    assert parts[1]["size"] == 25 * 2048
    assert parts[2]["start"] + parts[2]["size"] - 1 == 100 * 2048 - 34  # GPT backup at the end
    assert layout.plan("dos", [{"size": "1.5G"}], 4096 * MiB)[0]["size"] == 1536 * 2048
    with pytest.raises(layout.LayoutError):
        layout.plan("gpt", [{"size": "rest"}, {"size": "1MiB"}], 100 * MiB)
    with pytest.raises(layout.LayoutError):
        layout.plan("gpt", [{"size": "200MiB"}], 100 * MiB)
    with pytest.raises(layout.LayoutError):
        layout.plan("dos", [{"size": "1MiB", "type": "bios_grub"}], 100 * MiB)
    with pytest.raises(layout.LayoutError):
        layout.plan("gpt", [{"size": "ten"}], 100 * MiB)


def test_gpt_layout_with_filesystems_is_idempotent(tmp_path, loop_device):
    dev = image(tmp_path)
    res = run_module("partition", {"device": dev, "partitions": UEFI}, check_mode=True)
    assert res["changed"] and res["table_written"] and res["filesystems_created"] == [1, 2, 3], res
    assert "label: gpt" in res["diff"]["after"] and res["diff"]["before"] == ""
    assert subprocess.run(["sfdisk", "--json", dev], capture_output=True, check=False).returncode != 0  # untouched

    res = run_module("partition", {"device": dev, "partitions": UEFI})
    assert res.get("changed") is True, res
    table = sfdisk_json(dev)
    assert table["label"] == "gpt" and len(table["partitions"]) == 3
    assert table["partitions"][0]["type"] == layout.GPT_TYPES["efi"]
    assert table["partitions"][0]["name"] == "ESP" and table["partitions"][0]["size"] == 8 * 2048
    assert table["partitions"][1]["type"] == layout.GPT_TYPES["swap"]

    loop = loop_device(dev)
    subprocess.run(["partx", "-a", loop], capture_output=True, check=False)
    found = [subprocess.run(["blkid", "-p", "-o", "export", "%sp%d" % (loop, n)], capture_output=True,
                            text=True, check=False).stdout for n in (1, 2, 3)]
    assert "TYPE=vfat" in found[0] and "LABEL=ESP" in found[0]
    assert "TYPE=swap" in found[1] and "TYPE=ext4" in found[2] and "LABEL=root" in found[2]
    subprocess.run(["losetup", "-d", loop], capture_output=True, check=False)

    again = run_module("partition", {"device": dev, "partitions": UEFI})
    assert again["changed"] is False and again["filesystems_created"] == [], again


def test_a_different_table_needs_force(tmp_path):
    dev = image(tmp_path, 32 * MiB)
    subprocess.run(["sfdisk", "-q", dev], input="label: dos\n,4MiB,83\n", text=True, check=True)
    declared = [{"size": "8MiB"}, {"size": "rest", "type": "swap"}]
    res = run_module("partition", {"device": dev, "table": "mbr", "partitions": declared})
    assert res["failed"] and "force" in res["msg"], res
    res = run_module("partition", {"device": dev, "table": "mbr", "partitions": declared, "force": True})
    assert res["changed"], res
    table = sfdisk_json(dev)
    assert table["label"] == "dos" and [p["type"] for p in table["partitions"]] == ["83", "82"]
    assert run_module("partition", {"device": dev, "table": "mbr", "partitions": declared})["changed"] is False


def test_loop_device_layout(tmp_path, loop_device):
    backing = image(tmp_path, 48 * MiB)
    dev = loop_device(backing)
    parts = [{"size": "1MiB", "type": "bios_grub"}, {"size": "rest", "fs": "ext4", "label": "data"}]
    res = run_module("partition", {"device": dev, "partitions": parts})
    assert res.get("changed") is True, res
    out = subprocess.run(["blkid", "-p", "-o", "export", dev + "p2"], capture_output=True, text=True, check=False).stdout
    assert "TYPE=ext4" in out and "LABEL=data" in out
    assert run_module("partition", {"device": dev, "partitions": parts})["changed"] is False
    parts[1]["fs"] = "xfs" if subprocess.run(["which", "mkfs.xfs"], check=False).returncode == 0 else "vfat"
    res = run_module("partition", {"device": dev, "partitions": parts})
    assert res["failed"] and "holds ext4" in res["msg"], res
