#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node
short_description: Register, change, transition and retire PureBoot nodes
description:
  - Manages one node of the PureBoot registry, found by its MAC address.
  - Registers the node when it does not exist, changes the attributes that differ,
    assigns a workflow and moves the node through its lifecycle with O(lifecycle_state).
  - O(state=absent) retires the node; PureBoot keeps retired nodes and their history.
  - An update is sent with C(If-Match) set to the ETag of the read its changes were computed
    from; if someone changes the node between that read and the write, the task fails and
    nothing is overwritten (run it again to apply it to the current node).
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
    description: Shows the node's managed attributes and state before and after.
options:
  mac:
    description:
      - MAC address of the node's boot interface, in any common spelling
        (V(aa:bb:cc:dd:ee:ff), V(AA-BB-CC-DD-EE-FF), V(aabb.ccdd.eeff)).
    type: str
    required: true
  state:
    description:
      - V(present) registers or updates the node; V(absent) retires it.
    type: str
    choices: [present, absent]
    default: present
  lifecycle_state:
    description:
      - Lifecycle state the node should be in. The transition must be allowed from the
        current state by the controller's lifecycle table.
      - Critical transitions (reprovision, migrate, deprovision) never happen on request; the
        controller files a four-eye approval request, returned as RV(approval), and the node
        keeps its state until a different user approves it with M(pureboot.pureboot.approval).
        While that request is pending, running the task again files no second one.
    type: str
    choices: [discovered, pending, installing, installed, active, retired, deprovisioning, migrating, failed]
  reason:
    description:
      - Why the lifecycle state changes; recorded in the node's history.
    type: str
  workflow:
    description:
      - Name or numeric id of the workflow to assign. A new node registered with a
        workflow starts V(pending).
    type: str
  hostname:
    description: Hostname of the node.
    type: str
  serial:
    description: Hardware serial number.
    type: str
  system_uuid:
    description: SMBIOS system UUID.
    type: str
  arch:
    description: CPU architecture.
    type: str
    choices: [x86_64, i386, arm64, armhf]
  firmware:
    description: Firmware type.
    type: str
    choices: [bios, uefi, unknown]
  platform:
    description: Kind of machine.
    type: str
    choices: [baremetal, laptop, rpi, vm, edge, other]
  site:
    description: Site or location the node belongs to.
    type: str
  ip_address:
    description: IP address of the node.
    type: str
  hardware:
    description: Hardware facts to store; replaces the stored mapping when different.
    type: dict
  tags:
    description: Tags; replaces the stored list when different.
    type: list
    elements: str
  description:
    description: Free text.
    type: str
"""

EXAMPLES = r"""
- name: Register a server with a workflow (it starts pending)
  pureboot.pureboot.node:
    url: https://pureboot.example.com:8080
    token: "{{ pureboot_token }}"
    mac: "52:54:00:12:34:56"
    hostname: web01
    site: dc1
    tags: [web, prod]
    workflow: ubuntu-2404

- name: Mark an installed node active
  pureboot.pureboot.node:
    mac: "52:54:00:12:34:56"
    lifecycle_state: active
    reason: burn-in passed

- name: Retire a node
  pureboot.pureboot.node:
    mac: "52-54-00-12-34-56"
    state: absent
"""

RETURN = r"""
node:
  description: The node as the controller returns it (after the change; the planned result in check mode).
  returned: success
  type: dict
  sample: {"id": 3, "mac": "52:54:00:12:34:56", "hostname": "web01", "state": "pending", "workflow": 1}
approval:
  description:
    - The four-eye request that now holds a critical move (reprovision, deprovision, migrate), filed by this
      task or already pending; the node keeps its state until a second person approves it
      (see M(pureboot.pureboot.approval)).
  returned: when O(lifecycle_state) needs an approval
  type: dict
  sample: {"id": 9, "action": "node.reprovision", "target_id": "3", "status": "pending"}
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import (
    PureBootAPIError,
    PureBootModule,
    changed_fields,
)
from ansible_collections.pureboot.pureboot.plugins.module_utils.mac import normalize_mac
from ansible_collections.pureboot.pureboot.plugins.module_utils.resolve import workflow_id

ATTRIBUTES = ("hostname", "serial", "system_uuid", "arch", "firmware", "platform", "site",
              "ip_address", "hardware", "tags", "description")
LIFECYCLE_STATES = ["discovered", "pending", "installing", "installed", "active", "retired",
                    "deprovisioning", "migrating", "failed"]


def wanted_attributes(params):
    wanted = dict((key, params[key]) for key in ATTRIBUTES)
    if wanted["hostname"] is not None:
        wanted["hostname"] = wanted["hostname"].strip().lower()
    if wanted["system_uuid"] is not None:
        wanted["system_uuid"] = wanted["system_uuid"].strip().lower()
    return wanted


def view(node):
    """What diff mode shows: the managed attributes, workflow and state."""
    if not node:
        return {}
    keys = ("mac",) + ATTRIBUTES + ("workflow", "state")
    return dict((key, node.get(key)) for key in keys)


def ensure_present(module, node, mac):
    params = module.params
    wanted = wanted_attributes(params)
    wf_id = module.run(workflow_id, module.client, params["workflow"])
    result = dict(node or {})
    changed = False
    if node is None:
        body = dict((k, v) for k, v in wanted.items() if v is not None)
        body["mac"] = mac
        if wf_id is not None:
            body["workflow_id"] = wf_id
        changed = True
        result = dict(body, state="pending" if wf_id is not None else "discovered", workflow=wf_id)
        if not module.check_mode:
            result = module.call("POST", "nodes", payload=body)
    elif node_patch(node, wanted, wf_id):
        node, etag = module.run(module.client.request_versioned, "GET", "nodes/%d" % node["id"])
        patch = node_patch(node, wanted, wf_id)  # based on the read whose ETag goes in If-Match
        result = dict(node)
        if patch:
            changed = True
            result.update(patch)
            if "workflow_id" in patch:
                result["workflow"] = result.pop("workflow_id")
            if not module.check_mode:
                result = update_node(module, node, patch, etag)
    target = params["lifecycle_state"]
    if target and result.get("state") != target:
        approval = pending_approval(module, result)
        if approval is not None:
            return changed, result, approval  # the transition already waits for a second person
        changed = True
        body = {"state": target}
        if params["reason"]:
            body["reason"] = params["reason"]
        if wf_id is not None:
            body["workflow_id"] = wf_id
        if module.check_mode:
            result["state"] = target
        else:
            answer = module.call("PATCH", "nodes/%d/state" % result["id"], payload=body)
            if "requester" in answer:  # 202: a critical transition became an approval request
                return changed, result, answer
            result = answer
    return changed, result, None


def node_patch(node, wanted, wf_id):
    """The PATCH body that brings ``node`` to the wanted attributes and workflow."""
    patch = changed_fields(node, wanted)
    if wf_id is not None and node.get("workflow") != wf_id:
        patch["workflow_id"] = wf_id
    return patch


def update_node(module, node, patch, etag):
    """PATCH only the version the diff was computed from: a change made meanwhile is not overwritten."""
    try:
        return module.client.request_versioned("PATCH", "nodes/%d" % node["id"], payload=patch, if_match=etag)[0]
    except PureBootAPIError as exc:
        if exc.status != 412:
            module.fail_api(exc)
        module.fail_json(msg="node %s (%s) was changed by someone else after this task read it; nothing was "
                             "written. Run the task again to apply it to the current node."
                             % (node["id"], node["mac"]), status=412, current_etag=(exc.body or {}).get("etag"))


def pending_approval(module, node):
    """The pending four-eye request on this node, if any (so a re-run files no second one)."""
    if not node.get("id"):
        return None
    rows = module.run(module.client.list, "approvals",
                      {"target_type": "node", "target_id": str(node["id"]), "status": "pending"}, 1)
    return rows[0] if rows else None


def ensure_absent(module, node):
    if node is None or node.get("state") == "retired":
        return False, node or {}
    if module.check_mode:
        return True, dict(node, state="retired")
    return True, module.call("DELETE", "nodes/%d" % node["id"])


def main():
    module = PureBootModule(
        argument_spec=dict(
            mac=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            lifecycle_state=dict(type="str", choices=LIFECYCLE_STATES),
            reason=dict(type="str"),
            workflow=dict(type="str"),
            hostname=dict(type="str"),
            serial=dict(type="str"),
            system_uuid=dict(type="str"),
            arch=dict(type="str", choices=["x86_64", "i386", "arm64", "armhf"]),
            firmware=dict(type="str", choices=["bios", "uefi", "unknown"]),
            platform=dict(type="str", choices=["baremetal", "laptop", "rpi", "vm", "edge", "other"]),
            site=dict(type="str"),
            ip_address=dict(type="str"),
            hardware=dict(type="dict"),
            tags=dict(type="list", elements="str"),
            description=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        mac = normalize_mac(module.params["mac"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    node = module.run(module.client.find_one, "nodes", {"mac": mac})
    approval = None
    if module.params["state"] == "absent":
        changed, result = ensure_absent(module, node)
    else:
        changed, result, approval = ensure_present(module, node, mac)
    extra = {}
    if approval is not None:
        extra = dict(approval=approval, msg="the move to %s needs a second person's approval (request %d, %s)"
                     % (module.params["lifecycle_state"], approval["id"], approval["status"]))
    module.exit_json(changed=changed, node=result, diff=dict(before=view(node), after=view(result)), **extra)


if __name__ == "__main__":
    main()
