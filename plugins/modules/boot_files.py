#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: boot_files
short_description: Lay out a TFTP root with the network boot loaders of Debian packages
description:
  - Copies the first-stage loaders (iPXE for BIOS and UEFI, PXELINUX and its modules,
    signed shim and network GRUB) from the installed Debian packages into O(dest), builds
    the GRUB network and UEFI local-boot images with C(grub-mkimage) when C(grub-efi-*-bin)
    is installed, and writes GRUB's fallback configs. The same code as C(pureboot boot-files).
  - Writes only files that are missing or different, so a second run changes nothing.
  - Install the packages first, for example with the P(pureboot.pureboot.boot_server#role) role.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Reports which files would be written.
  diff_mode:
    support: none
    description: Binary files; lists them in RV(copied) and RV(built) instead.
options:
  dest:
    description: The TFTP root; created when missing.
    type: path
    required: true
  require_all:
    description:
      - Fail when any loader is missing because its package is not installed. Without it,
        only a missing iPXE (the one loader every boot path needs) fails.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: TFTP root for a branch boot server
  pureboot.pureboot.boot_files:
    dest: /srv/tftp
    require_all: true
"""

RETURN = r"""
copied:
  description: Files copied or written by this run (or that would be in check mode), relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: ["undionly.kpxe", "pxelinux.0", "grub/grub.cfg"]
built:
  description: GRUB images built with grub-mkimage that changed, relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: ["grubx64.efi", "grub/localboot-x64.efi"]
missing:
  description: Loaders not laid out, with the Debian package that provides each.
  returned: success
  type: list
  elements: str
  sample: ["grubaa64.efi (package grub-efi-arm64-bin)"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils import bootfiles


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            require_all=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        result = bootfiles.install(module.params["dest"], check_mode=module.check_mode)
    except (IOError, OSError, RuntimeError) as exc:
        module.fail_json(msg="cannot lay out %s: %s" % (module.params["dest"], exc))
    if result["failed"] or (module.params["require_all"] and result["missing"]):
        module.fail_json(msg="boot loaders missing: %s" % ", ".join(result["missing"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
