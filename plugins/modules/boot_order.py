#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: boot_order
short_description: Set the EFI BootOrder and BootNext, and create or delete EFI boot entries, with efibootmgr
description:
  - Reads the boot entries with C(efibootmgr), then puts the entries named in O(order) first, in that
    order; entries not named keep their relative order after them (C(efibootmgr -o)).
  - An entry is named by its label (every entry with that label, in BootOrder order) or by its number,
    four hex digits with or without C(Boot) (V(0003), V(Boot0003)).
  - O(next_boot) sets BootNext, the entry the firmware boots once, next time (C(efibootmgr -n)).
  - O(entries) are created (C(efibootmgr -c)) when no entry has their label; efibootmgr puts a new entry
    first in BootOrder, then O(order) applies.
  - With O(state=absent) the entries named in O(entries) and O(order) are deleted (C(efibootmgr -b -B)).
  - Idempotent. Nothing that changes a variable runs when the entries, BootOrder and BootNext already match.
  - Fails on a machine not booted in UEFI mode (no O(efi_path)) unless O(skip_on_bios) is set.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Changes no EFI variable; returns the planned entries, BootOrder and BootNext.
  diff_mode:
    support: full
    description: BootOrder (as labels and numbers) and BootNext, before and after.
options:
  order:
    description: Entries to put first in BootOrder, in order (labels or hex numbers).
    type: list
    elements: str
    default: []
  next_boot:
    description: Entry (label or hex number) to set as BootNext; only with O(state=present).
    type: str
  entries:
    description: Boot entries that must exist (O(state=present)) or not (O(state=absent)), matched by label.
    type: list
    elements: dict
    default: []
    suboptions:
      label:
        description: Label of the entry.
        type: str
        required: true
      disk:
        description: Disk holding the EFI system partition; needed to create the entry.
        type: path
      partition:
        description: Number of the EFI system partition on O(entries[].disk).
        type: int
        default: 1
      loader:
        description:
          - Path of the EFI binary on that partition, with backslashes, for example V(\\EFI\\debian\\shimx64.efi);
            needed to create the entry.
        type: str
  state:
    description: V(present) creates entries and sets the order; V(absent) deletes the named entries.
    type: str
    choices: [present, absent]
    default: present
  skip_on_bios:
    description: On a machine not booted in UEFI mode, change nothing and succeed (unchanged) instead of failing.
    type: bool
    default: false
  efibootmgr:
    description: The efibootmgr command (a name looked up in PATH, or a path).
    type: str
    default: efibootmgr
  efi_path:
    description: Directory whose presence means the machine booted in UEFI mode.
    type: path
    default: /sys/firmware/efi
requirements:
  - efibootmgr, and efivarfs mounted (as on any system booted in UEFI mode).
"""

EXAMPLES = r"""
- name: Boot the network first, then the installed system; boot the installed system next time
  pureboot.pureboot.boot_order:
    order: ["PureBoot network", "debian"]
    next_boot: debian
    entries:
      - label: debian
        disk: /dev/vda
        partition: 1
        loader: \EFI\debian\shimx64.efi
    skip_on_bios: true

- name: Remove the entries the installer left
  pureboot.pureboot.boot_order:
    order: ["0004", "UEFI QEMU DVD-ROM QM00003"]
    state: absent
"""

RETURN = r"""
boot_order:
  description: BootOrder afterwards (planned, in check mode).
  returned: success
  type: list
  elements: dict
  contains:
    number: {description: Boot entry number (four hex digits)., type: str}
    label: {description: Its label., type: str}
    active: {description: Whether the entry is active., type: bool}
  sample:
    - {number: "0003", label: PureBoot network, active: true}
    - {number: "0001", label: debian, active: true}
boot_current:
  description: The entry this boot started from (BootCurrent).
  returned: success
  type: str
  sample: "0003"
boot_next:
  description: BootNext afterwards, if set.
  returned: success
  type: str
  sample: "0001"
commands:
  description: The efibootmgr arguments run (in check mode, those that would run; new entry numbers are guesses).
  returned: success
  type: list
  elements: list
  sample: [["-o", "0003,0001,0000"], ["-n", "0001"]]
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
"""

import copy
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils import efiboot


class BootManager:
    """efibootmgr calls that change something, or (check mode) their effect on a copy of the state."""

    def __init__(self, module, binary):
        self.module, self.binary = module, binary
        self.commands = []
        self.state = self.read()

    def call(self, args):
        rc, out, err = self.module.run_command([self.binary] + args)
        if rc != 0:
            raise efiboot.EfiError("efibootmgr %s failed (rc %d): %s" % (" ".join(args), rc, (err or out).strip()))
        return out

    def read(self):
        return efiboot.parse(self.call([]))

    def change(self, args, simulate):
        self.commands.append(args)
        if self.module.check_mode:
            simulate(self.state)
        else:
            self.call(args)
            self.state = self.read()

    def ensure_entries(self, entries):
        for entry in entries:
            if efiboot.resolve(self.state, entry["label"]):
                continue
            if not entry.get("disk") or not entry.get("loader"):
                raise efiboot.EfiError("entry %r does not exist; disk and loader are needed to create it"
                                       % entry["label"])
            args = ["-c", "-d", entry["disk"], "-p", str(entry["partition"]), "-L", entry["label"],
                    "-l", entry["loader"]]
            self.change(args, lambda s, e=entry: efiboot.simulate_create(s, e["label"], "File(%s)" % e["loader"]))

    def set_order(self, names):
        first = efiboot.resolve_all(self.state, names, "order")
        wanted = efiboot.planned_order(self.state, first)
        if wanted != self.state["order"]:
            self.change(["-o", ",".join(wanted)], lambda s: s.update(order=wanted))

    def set_next(self, name):
        number = efiboot.resolve_all(self.state, [name], "next_boot")[0]
        if self.state["next"] != number:
            self.change(["-n", number], lambda s: s.update(next=number))

    def delete(self, names):
        for name in names:
            for number in efiboot.resolve(self.state, name):
                self.change(["-b", number, "-B"], lambda s, n=number: efiboot.simulate_delete(s, n))


def module_args():
    return dict(
        order=dict(type="list", elements="str", default=[]),
        next_boot=dict(type="str"),
        entries=dict(type="list", elements="dict", default=[], options=dict(
            label=dict(type="str", required=True),
            disk=dict(type="path"),
            partition=dict(type="int", default=1),
            loader=dict(type="str"),
        )),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        skip_on_bios=dict(type="bool", default=False),
        efibootmgr=dict(type="str", default="efibootmgr"),
        efi_path=dict(type="path", default="/sys/firmware/efi"),
    )


def main():
    module = AnsibleModule(argument_spec=module_args(), supports_check_mode=True)
    p = module.params
    if p["state"] == "absent" and p["next_boot"]:
        module.fail_json(msg="next_boot needs state=present")
    if not os.path.isdir(p["efi_path"]):
        msg = "not booted in UEFI mode (%s missing)" % p["efi_path"]
        if p["skip_on_bios"]:
            module.exit_json(changed=False, msg=msg + "; skipped", boot_order=[], boot_current=None,
                             boot_next=None, commands=[])
        module.fail_json(msg=msg + "; set skip_on_bios to skip the boot order there")
    binary = p["efibootmgr"] if "/" in p["efibootmgr"] else module.get_bin_path(p["efibootmgr"])
    if not binary or not os.access(binary, os.X_OK):
        module.fail_json(msg="efibootmgr not found (%s); install efibootmgr" % p["efibootmgr"])
    try:
        manager = BootManager(module, binary)
        before = copy.deepcopy(manager.state)
        if p["state"] == "present":
            manager.ensure_entries(p["entries"])
            if p["order"]:
                manager.set_order(p["order"])
            if p["next_boot"]:
                manager.set_next(p["next_boot"])
        else:
            manager.delete(p["order"] + [e["label"] for e in p["entries"]])
    except efiboot.EfiError as exc:
        module.fail_json(msg=str(exc))
    after = manager.state
    changed = bool(manager.commands)
    if not changed:
        msg = "boot entries, BootOrder and BootNext already as wanted"
    else:
        msg = "%s %d efibootmgr change(s)" % ("would make" if module.check_mode else "made", len(manager.commands))
    module.exit_json(changed=changed, msg=msg, boot_order=efiboot.summary(after), boot_current=after["current"],
                     boot_next=after["next"], commands=manager.commands,
                     diff={"before": efiboot.describe(before), "after": efiboot.describe(after)})


if __name__ == "__main__":
    main()
