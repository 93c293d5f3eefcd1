#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hardware_facts
short_description: The node's hardware inventory as the pureboot_hardware fact
description:
  - Reads C(/proc/cpuinfo), C(/proc/meminfo), C(/sys/block), C(/sys/class/net), C(/sys/class/dmi/id)
    and C(/sys/firmware/efi); needs no extra tool. When C(dmidecode) is installed it fills DMI strings
    that sysfs leaves empty (the system serial is readable only by root).
  - Loop, RAM, device-mapper, MD, NBD and optical devices are not listed as disks; interfaces without
    a hardware device (lo, bridges, veth, tunnels) are not listed as NICs.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Only reads.
  diff_mode:
    support: none
    description: Changes nothing.
  facts:
    support: full
    description: Sets RV(ansible_facts.pureboot_hardware).
options: {}
"""

EXAMPLES = r"""
- name: Inventory the node
  pureboot.pureboot.hardware_facts:

- name: Show the disks
  ansible.builtin.debug:
    msg: "{{ pureboot_hardware.disks | map(attribute='path') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: complex
  contains:
    pureboot_hardware:
      description:
        - C(cpu) (model, count, sockets, cores, architecture), C(memory) (total_bytes),
          C(disks) (name, path, size_bytes, model, vendor, serial, wwid, rotational, removable, read_only, transport),
          C(nics) (name, mac, driver, link, operstate, speed_mbps, mtu),
          C(dmi) (vendor, product, serial, uuid, version, board, bios, chassis) and
          C(firmware) (mode V(bios) or V(uefi), efi_bits).
      returned: always
      type: dict
      sample:
        cpu: {model: "Intel(R) Xeon(R) Silver 4314", count: 32, sockets: 1, cores: 16, architecture: x86_64}
        memory: {total_bytes: 68719476736}
        disks: [{name: sda, path: /dev/sda, size_bytes: 480103981056, model: "SAMSUNG MZ7LH480",
                 serial: S45PNA0M, rotational: false, removable: false, read_only: false}]
        nics: [{name: eno1, mac: "3c:ec:ef:00:00:01", driver: ixgbe, link: true, speed_mbps: 10000}]
        dmi: {vendor: Supermicro, product: SYS-1029P, serial: A1234}
        firmware: {mode: uefi, efi_bits: "64"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils import hwfacts


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    dmidecode_bin = module.get_bin_path("dmidecode")

    def dmidecode(keyword):
        rc, out, err = module.run_command([dmidecode_bin, "-s", keyword])
        value = out.strip() if rc == 0 else ""
        return value if value and not value.startswith("#") else None

    facts = hwfacts.gather("/", dmidecode if dmidecode_bin else None)
    module.exit_json(changed=False, ansible_facts={"pureboot_hardware": facts})


if __name__ == "__main__":
    main()
