#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: boot_config
short_description: Render per-node iPXE, PXELINUX and GRUB configs into a TFTP root
description:
  - For sites that serve network boot from their own TFTP server. Writes one config per
    node and format, chosen from the node's lifecycle state the way the PureBoot controller
    decides it, without calling the controller.
  - Nodes that should install (V(pending), V(installing)) or run the agent
    (V(deprovisioning), V(migrating)) chain-load the controller's iPXE script, or boot
    their C(kernel) directly. V(discovered), V(installed), V(active) and V(failed)
    nodes boot their local disk; V(retired) nodes are refused.
  - Files are rewritten only when their content changes.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Reports which files would be written.
  diff_mode:
    support: full
    description: Shows each changed file's old and new content.
options:
  dest:
    description: The TFTP root to write into. Sub-directories are created as needed.
    type: path
    required: true
  nodes:
    description:
      - The nodes to render, for example the C(nodes) returned by M(pureboot.pureboot.node_info).
      - Each needs C(mac) and C(state) (its lifecycle state). Optional keys C(kernel),
        C(initrd), C(cmdline) boot a kernel directly instead of chaining to the controller.
        Other keys are ignored.
      - A C(discovered) node netboots (to be inventoried by the agent) while its hardware is
        not inventoried, as the controller decides. C(inventoried) (bool) says whether it is,
        else the C(inventoried_at) key of its C(hardware) (as M(pureboot.pureboot.node_info)
        returns it); a node with neither boots local.
      - Chaining uses files that M(pureboot.pureboot.boot_files) lays out in the same root,
        C(ipxe.lkrn) for PXELINUX, C(ipxe.efi) for GRUB and C(grub/localboot-x64.efi) for
        UEFI local boot from iPXE.
    type: list
    elements: dict
    required: true
  formats:
    description: Which configs to write.
    type: list
    elements: str
    choices: [ipxe, pxelinux, grub]
    default: [ipxe, pxelinux, grub]
  controller_url:
    description:
      - Base URL of the controller, used by nodes that boot from the network
        (C(<controller_url>/boot/ipxe?mac=...)).
    type: str
  grub_dir:
    description: Directory under O(dest) holding GRUB's per-node configs.
    type: str
    default: grub
  mode:
    description: Permissions of the written files.
    type: raw
    default: "0644"
"""

EXAMPLES = r"""
- name: Nodes of this site
  pureboot.pureboot.node_info:
    site: branch1
  register: site_nodes

- name: Boot configs for the branch TFTP server
  pureboot.pureboot.boot_config:
    dest: /srv/tftp
    nodes: "{{ site_nodes.nodes }}"
    controller_url: https://pureboot.example.com:8080
"""

RETURN = r"""
files:
  description: Every file rendered, relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: ["ipxe/52-54-00-12-34-56.ipxe", "pxelinux.cfg/01-52-54-00-12-34-56"]
changed_files:
  description: The files written (or that would be written in check mode).
  returned: success
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils.bootconfig import BootConfigError, render_node


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def write(module, path, content):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory)
    tmp = path + ".pureboot-tmp"
    with open(tmp, "wb") as handle:
        handle.write(content.encode("utf-8"))
    module.atomic_move(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            nodes=dict(type="list", elements="dict", required=True),
            formats=dict(type="list", elements="str", choices=["ipxe", "pxelinux", "grub"],
                         default=["ipxe", "pxelinux", "grub"]),
            controller_url=dict(type="str"),
            grub_dir=dict(type="str", default="grub"),
            mode=dict(type="raw", default="0644"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    rendered = {}
    try:
        for index, node in enumerate(params["nodes"]):
            missing = [key for key in ("mac", "state") if not node.get(key)]
            if missing:
                module.fail_json(msg="nodes[%d] has no %s" % (index, " and no ".join(missing)))
            rendered.update(render_node(node, params["formats"], params["controller_url"], params["grub_dir"]))
    except (BootConfigError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    changed_files, diffs = [], []
    for relative in sorted(rendered):
        path = os.path.join(params["dest"], relative)
        before = read(path)
        if before != rendered[relative]:
            changed_files.append(relative)
            diffs.append(dict(before_header=path, after_header=path, before=before or "", after=rendered[relative]))
            if not module.check_mode:
                write(module, path, rendered[relative])
        if not module.check_mode and os.path.exists(path):
            file_args = module.load_file_common_arguments(dict(path=path, mode=params["mode"]))
            if module.set_fs_attributes_if_different(file_args, False) and relative not in changed_files:
                changed_files.append(relative)
    module.exit_json(changed=bool(changed_files), files=sorted(rendered), changed_files=changed_files, diff=diffs)


if __name__ == "__main__":
    main()
