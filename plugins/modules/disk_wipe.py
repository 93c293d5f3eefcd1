#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: disk_wipe
short_description: Erase disks and return per-disk evidence
description:
  - V(quick) removes signatures (C(wipefs -a)) and zeroes the first and last MiB (partition tables,
    GPT backup, RAID and LVM labels).
  - V(zero) overwrites every byte with zeros.
  - V(secure) uses C(blkdiscard --secure) on non-rotational disks and C(shred -n 1 -z) (a random pass,
    then zeros) on rotational disks and files. When C(blkdiscard --secure) is refused, it falls back to a
    zero overwrite (noted in the evidence).
  - With O(hardware_erase), V(secure) first tries the disk's own erase - C(nvme format --ses=1) (user data
    erase) on NVMe, ATA security erase (C(hdparm)) on SATA/SAS when supported and not frozen - and O(require_hardware_erase)
    fails instead of falling back when none worked.
  - Afterwards O(samples) random 4 KiB blocks of the erased ranges are read back past the page cache; a
    method that writes zeros fails when any of them is not zero.
  - Refuses a disk that is, or has partitions, mounted.
  - A wipe is never a no-op, so every run reports a change; use O(disks) to say exactly what to erase.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Checks the disks and reports what would be erased, erasing nothing.
  diff_mode:
    support: none
    description: Disk contents have no useful diff.
options:
  disks:
    description: Block devices (or image files) to erase.
    type: list
    elements: path
    required: true
  mode:
    description: How to erase.
    type: str
    choices: [quick, zero, secure]
    default: quick
  hardware_erase:
    description: With O(mode=secure), try NVMe format or ATA security erase first.
    type: bool
    default: false
  require_hardware_erase:
    description: With O(mode=secure), fail a disk on which no hardware erase worked (implies O(hardware_erase)).
    type: bool
    default: false
  samples:
    description: Random 4 KiB blocks read back per disk as evidence.
    type: int
    default: 8
requirements:
  - util-linux (wipefs, blkdiscard), coreutils (shred); nvme-cli and hdparm for hardware erase.
"""

EXAMPLES = r"""
- name: Deprovision with evidence
  pureboot.pureboot.disk_wipe:
    disks: "{{ pureboot_hardware.disks | map(attribute='path') | list }}"
    mode: secure
    hardware_erase: true
  register: wipe

- name: Fast re-provisioning
  pureboot.pureboot.disk_wipe:
    disks: [/dev/sda]
"""

RETURN = r"""
evidence:
  description: One entry per disk.
  returned: always
  type: list
  elements: dict
  contains:
    disk: {description: The disk., type: str}
    method:
      description: What erased it, e.g. C(quick:wipefs+zero-first-last-MiB), C(zero:overwrite), C(secure:shred-random+zero),
        C(secure:blkdiscard-secure), C(secure:fallback-zero), C(secure:nvme-format-user-data-erase), C(secure:ata-security-erase).
      type: str
    bytes: {description: Bytes erased., type: int}
    seconds: {description: Time the erase took., type: float}
    verification:
      description: C(samples) (offset, length, zero) read back, and C(all_zero).
      type: dict
    model: {description: Disk model from sysfs., type: str}
    serial: {description: Disk serial from sysfs., type: str}
  sample:
    - disk: /dev/sda
      method: quick:wipefs+zero-first-last-MiB
      bytes: 2097152
      seconds: 0.05
      verification: {all_zero: true, samples: [{offset: 8192, length: 4096, zero: true}]}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev, wipe


def check_disks(module):
    for disk in module.params["disks"]:
        if not os.path.exists(disk):
            module.fail_json(msg="disk %s not found" % disk)
        users = blockdev.mounted_users(disk)
        if users:
            module.fail_json(msg="%s is mounted (%s); refusing to wipe it" % (disk, ", ".join(users)))


def main():
    module = AnsibleModule(argument_spec=dict(
        disks=dict(type="list", elements="path", required=True),
        mode=dict(type="str", default="quick", choices=["quick", "zero", "secure"]),
        hardware_erase=dict(type="bool", default=False),
        require_hardware_erase=dict(type="bool", default=False),
        samples=dict(type="int", default=8),
    ), supports_check_mode=True)
    p = module.params
    check_disks(module)
    if module.check_mode:
        module.exit_json(changed=True, evidence=[{"disk": d, "mode": p["mode"], "size_bytes": wipe.disk_size(d)}
                                                 for d in p["disks"]])
    evidence = []
    for disk in p["disks"]:
        wiper = wipe.Wiper(module.run_command, module.get_bin_path, disk, hardware_erase=p["hardware_erase"],
                           require_hardware_erase=p["require_hardware_erase"], samples=p["samples"])
        try:
            evidence.append(wiper.run(p["mode"]))
        except (wipe.WipeError, OSError) as exc:
            failed = getattr(exc, "evidence", None) or {"disk": disk, "mode": p["mode"], "notes": wiper.notes}
            failed["error"] = str(exc)
            evidence.append(failed)
            module.fail_json(msg="wiping %s failed: %s" % (disk, exc), changed=True, evidence=evidence)
    module.exit_json(changed=True, evidence=evidence)


if __name__ == "__main__":
    main()
