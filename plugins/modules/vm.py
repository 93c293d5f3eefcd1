#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm
short_description: Create, remove and power virtual machines on a hypervisor
description:
  - Talks to the hypervisor directly through PureBoot's driver for O(provider); the controller
    is not involved.
  - A VM is found by its O(name). When none exists it is created from O(cpus), O(memory_mib),
    O(disks), O(networks), O(firmware) and O(boot_order), or cloned from O(template).
  - An existing VM is not reshaped; only an explicitly given O(boot_order) is applied to it
    (and a warning says when O(cpus), O(memory_mib) or O(firmware) differ).
  - O(state=running) and O(state=stopped) power the VM on or off hard (no guest shutdown);
    O(state=restarted) resets a running VM or starts a stopped one, and always reports a change.
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
    description: Changes nothing; returns the VM as it would be.
  diff_mode:
    support: full
    description: The VM's power_state, cpus, memory_mib, boot_order and macs before and after.
options:
  name:
    description: Name of the VM.
    type: str
    required: true
  state:
    description: What the VM should be.
    type: str
    choices: [present, absent, running, stopped, restarted]
    default: present
  cpus:
    description: Virtual CPUs of a new VM (1 when unset).
    type: int
  memory_mib:
    description: Memory of a new VM, in MiB (1024 when unset).
    type: int
  disks:
    description: Disks of a new VM, created as volumes (qcow2 with libvirt).
    type: list
    elements: dict
    default: []
    suboptions:
      size_gib:
        description: Size of the disk in GiB.
        type: int
        required: true
      pool:
        description: Storage pool holding the volume; V(default) when unset.
        type: str
  networks:
    description: Network interfaces of a new VM, each on a network or a bridge.
    type: list
    elements: dict
    default: []
    suboptions:
      network:
        description: Hypervisor network to attach to.
        type: str
      bridge:
        description: Host bridge to attach to.
        type: str
      mac:
        description: MAC address; the hypervisor picks one when unset.
        type: str
  firmware:
    description: Firmware of a new VM (V(bios) when unset).
    type: str
    choices: [bios, uefi]
  boot_order:
    description:
      - Boot devices in order. A new VM without it boots V(network), then V(disk).
      - Given for an existing VM, its boot order is changed to match (used from its next start).
    type: list
    elements: str
    choices: [network, disk, cdrom]
  template:
    description: Template to clone a new VM from (new identity, MACs and disks) instead of creating it.
    type: str
"""

EXAMPLES = r"""
- name: A UEFI VM that boots from the network first, running
  pureboot.pureboot.vm:
    connection:
      uri: qemu+ssh://root@kvm1/system
    name: node01
    state: running
    cpus: 2
    memory_mib: 4096
    firmware: uefi
    disks:
      - size_gib: 20
        pool: default
    networks:
      - network: provisioning
        mac: "52:54:00:12:34:56"

- name: A VM cloned from a template
  pureboot.pureboot.vm:
    connection:
      uri: qemu:///system
    name: node02
    template: debian12-template

- name: Remove it
  pureboot.pureboot.vm:
    connection:
      uri: qemu:///system
    name: node02
    state: absent
"""

RETURN = r"""
vm:
  description: The VM afterwards (as planned, in check mode); empty when absent.
  returned: success
  type: dict
  contains:
    name: {description: Its name., type: str}
    id: {description: The hypervisor's id (a UUID for libvirt); null for a VM check mode would create., type: str}
    power_state: {description: "One of running, stopped, paused or unknown.", type: str}
    macs: {description: MAC addresses of its interfaces., type: list, elements: str}
    firmware: {description: V(bios) or V(uefi)., type: str}
    boot_order: {description: "Boot devices in order (network, disk, cdrom).", type: list, elements: str}
    cpus: {description: Virtual CPUs., type: int}
    memory_mib: {description: Memory in MiB., type: int}
  sample: {"name": "node01", "id": "6695eb01-f6a4-8304-79aa-97f2502e193f", "power_state": "running",
           "macs": ["52:54:00:12:34:56"], "firmware": "uefi", "boot_order": ["network", "disk"],
           "cpus": 2, "memory_mib": 4096}
msg:
  description: What was done, or why nothing was.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils.hypervisors import (
    HypervisorError, connection_argument_spec, diff_view, driver_for, normalize_spec, vm_record)

POWER = {"running": ("on", "running"), "stopped": ("off", "stopped"), "restarted": ("reset", "running")}


def module_args():
    spec = connection_argument_spec()
    spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent", "running", "stopped", "restarted"]),
        cpus=dict(type="int"),
        memory_mib=dict(type="int"),
        disks=dict(type="list", elements="dict", default=[], options=dict(
            size_gib=dict(type="int", required=True),
            pool=dict(type="str"),
        )),
        networks=dict(type="list", elements="dict", default=[], options=dict(
            network=dict(type="str"),
            bridge=dict(type="str"),
            mac=dict(type="str"),
        ), mutually_exclusive=[["network", "bridge"]], required_one_of=[["network", "bridge"]]),
        firmware=dict(type="str", choices=["bios", "uefi"]),
        boot_order=dict(type="list", elements="str", choices=["network", "disk", "cdrom"]),
        template=dict(type="str"),
    )
    return spec


def create(module, driver, actions):
    """Create or clone the VM; in check mode, the VM as it would be."""
    p = module.params
    if p["template"]:
        source = driver.get_vm(p["template"])
        if source is None:
            raise HypervisorError(driver.provider, "clone_vm %s from %s" % (p["name"], p["template"]),
                                  "no template named %r" % p["template"])
        actions.append("cloned from %s" % p["template"])
        if module.check_mode:
            return dict(source, name=p["name"], id=None, power_state="stopped", macs=[])
        return driver.clone_vm(p["template"], p["name"])
    try:
        spec = normalize_spec(dict((key, p[key]) for key in
                                   ("name", "cpus", "memory_mib", "disks", "networks", "firmware", "boot_order")))
    except ValueError as exc:
        raise HypervisorError(driver.provider, "create_vm %s" % p["name"], exc)
    actions.append("created")
    if module.check_mode:
        return vm_record(spec["name"], None, "stopped", [n["mac"] for n in spec["networks"] if n["mac"]],
                         spec["firmware"], spec["boot_order"], spec["cpus"], spec["memory_mib"])
    return driver.create_vm(spec)


def ensure(module, driver, current, actions):
    p = module.params
    vm = create(module, driver, actions) if current is None else dict(current)
    if current is not None:
        differ = [key for key in ("cpus", "memory_mib", "firmware") if p[key] is not None and p[key] != current[key]]
        if differ and not p["template"]:
            module.warn("VM %s exists; its %s differ from the options and are left as they are"
                        % (p["name"], ", ".join(differ)))
    if p["boot_order"] is not None and current is not None and p["boot_order"] != current["boot_order"]:
        actions.append("boot order set to %s" % ",".join(p["boot_order"]))
        vm = dict(vm, boot_order=list(p["boot_order"])) if module.check_mode \
            else driver.set_boot_order(p["name"], p["boot_order"])
    if p["state"] in POWER:
        action, wanted = POWER[p["state"]]
        if action == "reset" or vm["power_state"] != wanted:
            actions.append({"on": "powered on", "off": "powered off", "reset": "restarted"}[action])
            vm = dict(vm, power_state=wanted if module.check_mode else driver.power(p["name"], action))
    return vm


def main():
    module = AnsibleModule(argument_spec=module_args(), supports_check_mode=True)
    p = module.params
    driver = driver_for(p["provider"], **(p["connection"] or {}))
    actions = []
    try:
        current = driver.get_vm(p["name"])
        if p["state"] == "absent":
            vm = {}
            if current is not None:
                actions.append("deleted")
                if not module.check_mode:
                    driver.delete_vm(p["name"])
        else:
            vm = ensure(module, driver, current, actions)
    except HypervisorError as exc:
        module.fail_json(msg=str(exc))
    finally:
        try:
            driver.close()
        except HypervisorError:
            pass
    if actions:
        msg = "VM %s %s%s" % (p["name"], "would be " if module.check_mode else "", ", ".join(actions))
    else:
        msg = "VM %s already %s" % (p["name"], "absent" if p["state"] == "absent" else "as wanted")
    module.exit_json(changed=bool(actions), msg=msg, vm=vm,
                     diff=dict(before=diff_view(current), after=diff_view(vm)))


if __name__ == "__main__":
    main()
