#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: hypervisor
short_description: Manage PureBoot hypervisor connections
description:
  - Creates, changes or removes a hypervisor connection (libvirt, oVirt, Proxmox,
    VMware, Hyper-V) on the controller, found by its name.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Reports what would change without changing anything.
  diff_mode:
    support: full
    description: Shows the connection before and after.
options:
  name:
    description: Name of the connection.
    type: str
    required: true
  provider:
    description: Hypervisor type. Required to create the connection.
    type: str
    choices: [libvirt, ovirt, proxmox, vmware, hyperv]
  endpoint:
    description:
      - Where the hypervisor is reached, for example V(qemu+ssh://kvm1/system) or
        V(https://engine.example.com/ovirt-engine/api). Required to create the connection.
    type: str
  hypervisor_username:
    description: User PureBoot logs in to the hypervisor as.
    type: str
  verify_tls:
    description: Whether PureBoot verifies the hypervisor's TLS certificate.
    type: bool
  options:
    description: Provider specific settings (cluster, node, datacenter, ...).
    type: dict
  description:
    description: Free text.
    type: str
  state:
    description: V(absent) removes the connection.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: A Proxmox cluster
  pureboot.pureboot.hypervisor:
    name: pve-lab
    provider: proxmox
    endpoint: https://pve1.example.com:8006
    hypervisor_username: pureboot@pve
    options:
      node: pve1
"""

RETURN = r"""
hypervisor:
  description: The connection as stored by the controller.
  returned: success
  type: dict
  sample: {"id": 2, "name": "pve-lab", "provider": "proxmox", "endpoint": "https://pve1.example.com:8006"}
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootModule, changed_fields

FIELDS = ("provider", "endpoint", "username", "verify_tls", "options", "description")
PROVIDERS = ["libvirt", "ovirt", "proxmox", "vmware", "hyperv"]


def view(row):
    return dict((key, row.get(key)) for key in ("name",) + FIELDS) if row else {}


def ensure_present(module, current):
    params = module.params
    wanted = dict((key, params[key]) for key in FIELDS if key != "username")
    wanted["username"] = params["hypervisor_username"]
    if current is None:
        missing = [key for key in ("provider", "endpoint") if not params[key]]
        if missing:
            module.fail_json(msg="%s required to create hypervisor %s" % (" and ".join(missing), params["name"]))
        body = dict((k, v) for k, v in wanted.items() if v is not None)
        body["name"] = params["name"]
        return True, body if module.check_mode else module.call("POST", "hypervisors", payload=body)
    patch = changed_fields(current, wanted)
    if not patch:
        return False, current
    if module.check_mode:
        return True, dict(current, **patch)
    return True, module.call("PATCH", "hypervisors/%d" % current["id"], payload=patch)


def main():
    module = PureBootModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            provider=dict(type="str", choices=PROVIDERS),
            endpoint=dict(type="str"),
            hypervisor_username=dict(type="str"),
            verify_tls=dict(type="bool"),
            options=dict(type="dict"),
            description=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    current = module.run(module.client.find_one, "hypervisors", {"name": module.params["name"]})
    if module.params["state"] == "absent":
        if current and not module.check_mode:
            module.call("DELETE", "hypervisors/%d" % current["id"])
        module.exit_json(changed=bool(current), hypervisor={}, diff=dict(before=view(current), after={}))
    changed, result = ensure_present(module, current)
    module.exit_json(changed=changed, hypervisor=result, diff=dict(before=view(current), after=view(result)))


if __name__ == "__main__":
    main()
