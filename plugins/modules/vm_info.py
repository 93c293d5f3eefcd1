#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_info
short_description: List the virtual machines and templates of a hypervisor
description:
  - Talks to the hypervisor directly through PureBoot's driver for O(provider) and returns its VMs,
    its templates and what it runs (version, host name). Changes nothing.
  - With libvirt, a template is a domain whose C(<metadata>) holds
    C(<pureboot:vm xmlns:pureboot="https://pureboot.dev/xmlns/libvirt/1" template="true"/>).
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.hypervisor_connection
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  name:
    description: Return only the VM (or template) of this name; an empty list when there is none.
    type: str
"""

EXAMPLES = r"""
- name: The VMs of a KVM host
  pureboot.pureboot.vm_info:
    connection:
      uri: qemu+ssh://root@kvm1/system
  register: kvm1

- name: One VM
  pureboot.pureboot.vm_info:
    connection:
      uri: qemu:///system
    name: node01
  register: node01
"""

RETURN = r"""
vms:
  description: The VMs (templates excluded unless O(name) names one), sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: Its name., type: str}
    id: {description: The hypervisor's id (a UUID for libvirt)., type: str}
    power_state: {description: "One of running, stopped, paused or unknown.", type: str}
    macs: {description: MAC addresses of its interfaces., type: list, elements: str}
    firmware: {description: V(bios) or V(uefi)., type: str}
    boot_order: {description: "Boot devices in order (network, disk, cdrom).", type: list, elements: str}
    cpus: {description: Virtual CPUs., type: int}
    memory_mib: {description: Memory in MiB., type: int}
  sample:
    - {"name": "node01", "id": "6695eb01-f6a4-8304-79aa-97f2502e193f", "power_state": "running",
       "macs": ["52:54:00:12:34:56"], "firmware": "uefi", "boot_order": ["network", "disk"], "cpus": 2,
       "memory_mib": 4096}
templates:
  description: The templates, in the same shape as RV(vms) (empty when O(name) is set).
  returned: success
  type: list
  elements: dict
hypervisor:
  description: What answered.
  returned: success
  type: dict
  contains:
    version: {description: Version of the hypervisor's library or API., type: str}
    host: {description: Host name of the hypervisor., type: str}
  sample: {"version": "9.0.0", "host": "kvm1"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils.hypervisors import (
    HypervisorError, connection_argument_spec, driver_for)


def main():
    spec = connection_argument_spec()
    spec.update(name=dict(type="str"))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    driver = driver_for(p["provider"], **(p["connection"] or {}))
    try:
        host = driver.check()
        if p["name"]:
            vm = driver.get_vm(p["name"])
            vms, templates = ([vm] if vm else []), []
        else:
            vms, templates = driver.list_vms(), driver.list_templates()
    except HypervisorError as exc:
        module.fail_json(msg=str(exc))
    finally:
        try:
            driver.close()
        except HypervisorError:
            pass
    module.exit_json(changed=False, vms=vms, templates=templates, hypervisor=host)


if __name__ == "__main__":
    main()
