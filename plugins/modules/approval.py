#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: approval
short_description: Request, approve, deny or withdraw PureBoot four-eye approvals
description:
  - Critical actions (reprovision, deprovision, migrate, credential and settings changes,
    audit clearing, emergency access) never run on request in PureBoot; they wait for a
    second person. This module files such a request and takes the decision on it.
  - V(requested) files a request unless one is already pending for the same O(action) and
    target; in check mode it asks the controller for a dry run and returns its summary.
  - V(approved), V(denied) and V(cancelled) decide on the request given by O(id), or on the
    single pending request for O(action) and target. Approving executes the action at once,
    exactly once; the module fails when the action failed.
  - The controller refuses an approval by the user who requested it (four-eye principle); run
    the deciding task with the approver's credentials.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Nothing is filed or decided; a new request is answered by the controller's dry run.
  diff_mode:
    support: full
    description: Shows the request's status before and after.
options:
  state:
    description: What should become of the request.
    type: str
    choices: [requested, approved, denied, cancelled]
    default: requested
  id:
    description: Id of the approval request to decide on.
    type: int
  action:
    description:
      - The critical action, for example V(node.reprovision), V(node.deprovision), V(node.migrate),
        V(credential.update), V(settings.update).
      - Required with O(state=requested), and to find the request when O(id) is not given.
    type: str
  node:
    description:
      - Target node by hostname, MAC address or id, for C(node.*) actions.
      - Mutually exclusive with O(target_id).
    type: str
  target_id:
    description: Id of the target as the controller knows it, for actions whose target is not a node.
    type: str
  payload:
    description: Parameters of the action (for example C(workflow_id) for a reprovision).
    type: dict
  reason:
    description: Why the action is needed; required with O(state=requested) and recorded.
    type: str
  comment:
    description: The approver's comment on a decision.
    type: str
"""

EXAMPLES = r"""
- name: Ask for web01 to be reinstalled (an operator's credentials)
  pureboot.pureboot.approval:
    action: node.reprovision
    node: web01
    reason: "CHG-1042: move to the new image"
  register: request

- name: A second admin approves it, and the node goes back to pending
  pureboot.pureboot.approval:
    id: "{{ request.approval.id }}"
    state: approved
    comment: checked the change ticket
    token: "{{ approver_token }}"

- name: What would a deprovision do? (nothing is filed)
  pureboot.pureboot.approval:
    action: node.deprovision
    node: 52:54:00:12:34:56
    reason: decommission
  check_mode: true
  register: preview
"""

RETURN = r"""
approval:
  description: The approval request after the task; empty when nothing was filed (check mode).
  returned: success
  type: dict
  sample: {"id": 7, "action": "node.reprovision", "target_id": "12", "status": "executed",
           "requester": "ops1", "approver": "admin2", "result": {"node": 12, "to": "pending"}}
dry_run:
  description: The controller's account of what a new request would do (check mode, O(state=requested)).
  returned: when a request would be filed in check mode
  type: dict
  sample: {"summary": "node 12 (web01): active -> pending (reprovision)", "approval_required": true}
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError, PureBootModule
from ansible_collections.pureboot.pureboot.plugins.module_utils.mac import normalize_mac

DECISIONS = {"approved": ("approve", ("approved", "executed")),
             "denied": ("deny", ("denied",)),
             "cancelled": ("cancel", ("cancelled",))}


def node_id(client, value):
    """Id of the node named by hostname, MAC or id."""
    text = value.strip()
    if text.isdigit():
        found = client.get_or_none("nodes/%s" % text)
    else:
        try:
            found = client.find_one("nodes", {"mac": normalize_mac(text)})
        except ValueError:
            found = client.find_one("nodes", {"hostname": text})
    if found is None:
        raise PureBootAPIError("no node with hostname, MAC or id %r exists on the controller" % text, status=404)
    return str(found["id"])


def target_of(module):
    params = module.params
    if params["node"] is not None:
        return module.run(node_id, module.client, params["node"])
    return params["target_id"]


def find_request(module, target, statuses):
    """The newest request for action + target whose status is one of `statuses`, or None."""
    query = {"action": module.params["action"], "status__in": ",".join(statuses), "order_by": "-id"}
    if target is not None:
        query["target_id"] = target
    rows = module.run(module.client.list, "approvals", query, 1)
    return rows[0] if rows else None


def ensure_requested(module):
    params = module.params
    for name in ("action", "reason"):
        if not params[name]:
            module.fail_json(msg="%s is required with state=requested" % name)
    target = target_of(module)
    if target is None:
        module.fail_json(msg="one of node or target_id is required with state=requested")
    pending = find_request(module, target, ("pending",))
    if pending is not None:
        return False, pending, {}
    body = {"action": params["action"], "target_id": target, "payload": params["payload"] or {},
            "reason": params["reason"]}
    if module.check_mode:
        preview = module.call("POST", "approvals", payload=body, query={"dry_run": "true"})
        return True, {}, {"dry_run": preview}
    return True, module.call("POST", "approvals", payload=body), {}


def locate(module):
    params = module.params
    if params["id"] is not None:
        return module.call("GET", "approvals/%d" % params["id"])
    if not params["action"]:
        module.fail_json(msg="id, or action with node or target_id, is required to decide on a request")
    target = target_of(module)
    wanted = DECISIONS[params["state"]][1]
    found = find_request(module, target, ("pending",)) or find_request(module, target, wanted)
    if found is None:
        module.fail_json(msg="no pending %s request for target %s" % (params["action"], target))
    return found


def ensure_decided(module, current):
    verb, done = DECISIONS[module.params["state"]]
    if current["status"] in done:
        return False, current
    if current["status"] != "pending":
        module.fail_json(msg="approval %d is %s; it can no longer be %s"
                         % (current["id"], current["status"], module.params["state"]), approval=current)
    if module.check_mode:
        return True, dict(current, status=done[0])
    body = {"comment": module.params["comment"]} if module.params["comment"] else {}
    decided = module.call("POST", "approvals/%d/%s" % (current["id"], verb), payload=body)
    if decided.get("status") == "failed":
        module.fail_json(msg="approval %d was approved but its action failed: %s"
                         % (decided["id"], decided.get("error")), changed=True, approval=decided)
    return True, decided


def main():
    module = PureBootModule(
        argument_spec=dict(
            state=dict(type="str", default="requested", choices=["requested", "approved", "denied", "cancelled"]),
            id=dict(type="int"),
            action=dict(type="str"),
            node=dict(type="str"),
            target_id=dict(type="str"),
            payload=dict(type="dict"),
            reason=dict(type="str"),
            comment=dict(type="str"),
        ),
        mutually_exclusive=[("node", "target_id")],
        supports_check_mode=True,
    )
    extra = {}
    if module.params["state"] == "requested":
        before = None
        changed, approval, extra = ensure_requested(module)
    else:
        before = locate(module)
        changed, approval = ensure_decided(module, before)
    diff = dict(before={"status": before["status"]} if before else {},
                after={"status": approval.get("status", "requested")} if changed or approval else {})
    module.exit_json(changed=changed, approval=approval, diff=diff, **extra)


if __name__ == "__main__":
    main()
