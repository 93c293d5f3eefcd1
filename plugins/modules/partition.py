#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: partition
short_description: Apply a declared GPT or MBR partition layout, with filesystems, to a disk or image file
description:
  - Computes the exact sectors of the declared O(partitions) (each starts on a MiB boundary, the last
    may take the rest), reads the current table with C(sfdisk --json) and writes a new one with
    C(sfdisk) only when start, size, type or name differ. Then makes each declared filesystem
    that is not already there with the same label (C(blkid) probes, C(mkfs.*) makes).
  - Refuses to replace a different existing table, or a different filesystem, unless O(force) is set.
  - An image file is attached to a loop device (C(losetup)) for probing and mkfs, then detached.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Reports the table and filesystems that would be written.
  diff_mode:
    support: full
    description: The partition table before and after, as sfdisk scripts.
options:
  device:
    description: Block device or image file.
    type: path
    required: true
  table:
    description: Partition table type.
    type: str
    choices: [gpt, mbr]
    default: gpt
  partitions:
    description: The partitions, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      size:
        description:
          - V(512MiB), V(20GiB), V(1.5G) (binary units; V(MB)/V(GB) are decimal), V(25%) of the disk,
            or V(rest) (last partition only). A bare number is MiB.
        type: str
        default: rest
      type:
        description:
          - V(efi), V(linux), V(swap), V(bios_grub) (GPT only), V(lvm), V(raid), V(msr), V(basic_data),
            a GPT type GUID or an MBR type byte in hex. Defaults to V(swap) for O(partitions[].fs=swap), else V(linux).
        type: str
      fs:
        description: Filesystem to make on it.
        type: str
        choices: [ext4, xfs, vfat, swap, none]
        default: none
      label:
        description: Filesystem label, and the GPT partition name.
        type: str
      bootable:
        description: MBR active flag.
        type: bool
        default: false
  force:
    description: Replace a different existing partition table or filesystem (destroys its data).
    type: bool
    default: false
requirements:
  - util-linux (sfdisk, blkid, partx, losetup), and e2fsprogs, xfsprogs, dosfstools for the filesystems used.
"""

EXAMPLES = r"""
- name: UEFI layout on the first disk
  pureboot.pureboot.partition:
    device: /dev/sda
    table: gpt
    partitions:
      - {size: 512MiB, type: efi, fs: vfat, label: ESP}
      - {size: 4GiB, fs: swap, label: swap}
      - {size: rest, type: linux, fs: ext4, label: root}

- name: BIOS layout in an image file
  pureboot.pureboot.partition:
    device: /srv/images/disk.img
    table: mbr
    partitions:
      - {size: rest, fs: ext4, bootable: true}
"""

RETURN = r"""
table:
  description: The table type as sfdisk names it (gpt or dos).
  returned: success
  type: str
partitions:
  description: The partitions as laid out (sectors of 512 bytes or the device's logical sector size).
  returned: success
  type: list
  elements: dict
  sample: [{"number": 1, "start": 2048, "size": 1048576, "type": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
            "name": "ESP", "fs": "vfat", "bootable": false}]
table_written:
  description: Whether the partition table was (or would be) written.
  returned: success
  type: bool
filesystems_created:
  description: Partition numbers that got (or would get) a new filesystem.
  returned: success
  type: list
  elements: int
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev, filesystems
from ansible_collections.pureboot.pureboot.plugins.module_utils import partition_layout as layout


def disk_geometry(device):
    fd = os.open(device, os.O_RDONLY)
    try:
        size = blockdev.size_of(fd)
    finally:
        os.close(fd)
    sector = blockdev.read_sysfs(os.path.join(blockdev.sysfs_dir(device), "queue", "logical_block_size"))
    return size, int(sector) if blockdev.is_block(device) and sector else 512


def fs_work(module, wanted, nodes, table_ok):
    """Partition numbers needing mkfs; fails on a different filesystem unless force."""
    todo = []
    for part, node in zip(wanted, nodes):
        if part["fs"] == "none":
            continue
        if not table_ok:
            todo.append(part["number"])
            continue
        found, found_label = filesystems.probe(module.run_command, node)
        if filesystems.same_fs(part["fs"], part["name"], found, found_label):
            continue
        if found and not module.params["force"]:
            module.fail_json(msg="partition %d holds %s (label %s), not %s; set force to replace it"
                             % (part["number"], found, found_label, part["fs"]))
        todo.append(part["number"])
    return todo


def with_nodes(module, device, count, readonly, work):
    """Run ``work(nodes)`` with the partition devices of ``device`` (a loop device for a file)."""
    if blockdev.is_block(device):
        blockdev.reread_partitions(device)
        return work(filesystems.ensure_nodes(module.run_command, device, count))
    with filesystems.Loop(module.run_command, device, readonly=readonly) as loop:
        return work(filesystems.ensure_nodes(module.run_command, loop, count))


def main():
    module = AnsibleModule(argument_spec=dict(
        device=dict(type="path", required=True),
        table=dict(type="str", default="gpt", choices=["gpt", "mbr"]),
        partitions=dict(type="list", elements="dict", required=True, options=dict(
            size=dict(type="str", default="rest"),
            type=dict(type="str"),
            fs=dict(type="str", default="none", choices=["ext4", "xfs", "vfat", "swap", "none"]),
            label=dict(type="str"),
            bootable=dict(type="bool", default=False),
        )),
        force=dict(type="bool", default=False),
    ), supports_check_mode=True)
    device = module.params["device"]
    try:
        label = layout.table_label(module.params["table"])
        disk_bytes, sector = disk_geometry(device)
        wanted = layout.plan(label, module.params["partitions"], disk_bytes, sector)
        have_label, have = layout.current(blockdev.partition_table(module.run_command, device))
    except (layout.LayoutError, OSError, ValueError) as exc:
        module.fail_json(msg="%s: %s" % (device, exc))
    table_ok = layout.table_matches(label, wanted, have_label, have)
    if not table_ok and have and not module.params["force"]:
        module.fail_json(msg="%s already has a different partition table (%d partitions); set force to replace it"
                         % (device, len(have)), current=have)
    result = dict(table=label, partitions=wanted, table_written=not table_ok, changed=not table_ok,
                  diff=dict(before=layout.script(have_label, have) if have_label else "",
                            after=layout.script(label, wanted)))
    try:
        if table_ok:
            todo = with_nodes(module, device, len(wanted), True,
                              lambda nodes: fs_work(module, wanted, nodes, True))
        else:
            todo = [p["number"] for p in wanted if p["fs"] != "none"]
        result["filesystems_created"] = todo
        result["changed"] = result["changed"] or bool(todo)
        if module.check_mode or not result["changed"]:
            module.exit_json(**result)
        if not table_ok:
            write_table(module, device, label, wanted)
        if todo:
            with_nodes(module, device, len(wanted), False, lambda nodes: make_filesystems(module, wanted, nodes, todo))
    except (filesystems.FsError, OSError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


def write_table(module, device, label, wanted):
    cmd = ["sfdisk", "--wipe", "always", "--wipe-partitions", "always", "-q", device]
    rc, out, err = module.run_command(cmd, data=layout.script(label, wanted), binary_data=True)
    if rc != 0:
        raise OSError("sfdisk could not write the table on %s: %s" % (device, (err or out).strip()))


def make_filesystems(module, wanted, nodes, todo):
    for part, node in zip(wanted, nodes):
        if part["number"] in todo:
            filesystems.mkfs(module.run_command, part["fs"], node, part["name"])


if __name__ == "__main__":
    main()
