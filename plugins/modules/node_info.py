#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_info
short_description: List PureBoot nodes
description:
  - Returns the nodes of the PureBoot registry that match all the given filters,
    following the API's pages until the end.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
options:
  id:
    description: Return only the node with this id.
    type: int
  mac:
    description: MAC address in any common spelling.
    type: str
  hostname:
    description: Exact hostname.
    type: str
  lifecycle_state:
    description: Only nodes in these lifecycle states.
    type: list
    elements: str
  site:
    description: Only nodes of this site.
    type: str
  tag:
    description: Only nodes with this tag.
    type: str
  workflow:
    description: Only nodes assigned this workflow (name or id).
    type: str
  limit:
    description: Stop after this many nodes.
    type: int
"""

EXAMPLES = r"""
- name: Nodes that failed to install at site dc1
  pureboot.pureboot.node_info:
    lifecycle_state: [failed]
    site: dc1
  register: failed_nodes

- name: One node by MAC
  pureboot.pureboot.node_info:
    mac: 52-54-00-12-34-56
  register: result
"""

RETURN = r"""
nodes:
  description: The matching nodes, ordered by id.
  returned: always
  type: list
  elements: dict
  sample: [{"id": 3, "mac": "52:54:00:12:34:56", "hostname": "web01", "state": "active"}]
"""

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootModule
from ansible_collections.pureboot.pureboot.plugins.module_utils.mac import normalize_mac
from ansible_collections.pureboot.pureboot.plugins.module_utils.resolve import workflow_id


def query_for(module):
    params = module.params
    query = {"hostname": params["hostname"], "site": params["site"], "tag": params["tag"]}
    if params["mac"]:
        try:
            query["mac"] = normalize_mac(params["mac"])
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    if params["lifecycle_state"]:
        query["state__in"] = ",".join(params["lifecycle_state"])
    if params["workflow"]:
        query["workflow"] = module.run(workflow_id, module.client, params["workflow"])
    return query


def main():
    module = PureBootModule(
        argument_spec=dict(
            id=dict(type="int"),
            mac=dict(type="str"),
            hostname=dict(type="str"),
            lifecycle_state=dict(type="list", elements="str"),
            site=dict(type="str"),
            tag=dict(type="str"),
            workflow=dict(type="str"),
            limit=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    if module.params["id"] is not None:
        node = module.run(module.client.get_or_none, "nodes/%d" % module.params["id"])
        module.exit_json(changed=False, nodes=[node] if node else [])
    nodes = module.run(module.client.list, "nodes", query_for(module), module.params["limit"])
    module.exit_json(changed=False, nodes=nodes)


if __name__ == "__main__":
    main()
