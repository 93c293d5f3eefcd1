# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """How the VM modules reach a hypervisor directly (no controller involved)."""

    DOCUMENTATION = r"""
options:
  provider:
    description:
      - Hypervisor type. Only V(libvirt) in this release; oVirt, Proxmox, VMware and Hyper-V
        drivers come with the same options.
    type: str
    choices: [libvirt]
    default: libvirt
  connection:
    description: How to reach the hypervisor; keys depend on O(provider).
    type: dict
    default: {}
    suboptions:
      uri:
        description:
          - libvirt connection URI, for example V(qemu:///system) or V(qemu+ssh://root@kvm1/system).
            Unset means libvirt's default (C(LIBVIRT_DEFAULT_URI)).
        type: str
      username:
        description: User to log in as (providers other than libvirt; libvirt authenticates through the URI).
        type: str
      password:
        description: Password of O(connection.username) (providers other than libvirt).
        type: str
requirements:
  - libvirt-python (C(import libvirt)) on the host the module runs on, for O(provider=libvirt).
"""
