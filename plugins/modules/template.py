#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: template
short_description: Upload OS images and config templates to PureBoot
description:
  - Creates a template (an OS image, kernel, initrd or config file) identified by
    O(name) and O(version), and uploads its content from O(src), streamed and checked
    against its SHA-256 by the controller.
  - Stored content is immutable. When the stored checksum matches O(src) nothing is
    uploaded; when it differs the module fails and asks for a new O(version).
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - pureboot.pureboot.auth
attributes:
  check_mode:
    support: full
    description: Computes the checksum and reports whether an upload would happen.
  diff_mode:
    support: full
    description: Shows the template's metadata before and after.
options:
  name:
    description: Template name.
    type: str
    required: true
  version:
    description: Template version; a new image is a new version.
    type: str
    default: "1"
  kind:
    description: What the file is. Required to create a template.
    type: str
    choices: [raw, qcow2, vhdx, wim, tar.gz, squashfs, iso, kernel, initrd, config]
  src:
    description:
      - Path of the file to upload, on the host the module runs on.
    type: path
  sha256:
    description:
      - Expected SHA-256 of O(src). When given, a file with another checksum is refused
        before anything is sent. Without O(src), it is recorded for an external O(location).
    type: str
  location:
    description: URL of content kept outside PureBoot (http, https, nfs, iscsi), instead of O(src).
    type: str
  description:
    description: Free text.
    type: str
  state:
    description: V(absent) deletes the template and its stored file.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Upload the golden image
  pureboot.pureboot.template:
    name: ubuntu-2404
    version: "2025.06"
    kind: qcow2
    src: /srv/images/ubuntu-2404.qcow2
    description: Ubuntu 24.04 golden image

- name: An image served from elsewhere
  pureboot.pureboot.template:
    name: win2022
    kind: wim
    location: https://images.example.com/win2022.wim
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
"""

RETURN = r"""
template:
  description: The template's metadata.
  returned: success
  type: dict
  sample: {"id": 4, "name": "ubuntu-2404", "version": "2025.06", "kind": "qcow2", "sha256": "9f86...", "stored": true}
uploaded:
  description: Whether content was uploaded by this run.
  returned: success
  type: bool
"""

import os

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootModule

KINDS = ["raw", "qcow2", "vhdx", "wim", "tar.gz", "squashfs", "iso", "kernel", "initrd", "config"]
SHOWN = ("name", "version", "kind", "description", "sha256", "size", "location", "stored")


def view(template):
    return dict((key, template.get(key)) for key in SHOWN) if template else {}


def local_checksum(module):
    src, expected = module.params["src"], module.params["sha256"]
    if not src:
        return expected.lower() if expected else None
    if not os.path.isfile(src):
        module.fail_json(msg="src %s is not a readable file" % src)
    actual = module.sha256(src)
    if expected and expected.lower() != actual:
        module.fail_json(msg="%s has SHA-256 %s, not the expected %s" % (src, actual, expected.lower()))
    return actual


def create(module, checksum):
    params = module.params
    if not params["kind"]:
        module.fail_json(msg="kind is required to create template %s" % params["name"])
    meta = dict(name=params["name"], version=params["version"], kind=params["kind"],
                description=params["description"], sha256=checksum)
    if module.check_mode:
        return dict(meta, stored=bool(params["src"]), location=params["location"])
    if params["src"]:
        query = dict(meta, filename=os.path.basename(params["src"]))
        return module.run(module.client.upload, "POST", "templates", params["src"], query)
    body = dict((k, v) for k, v in dict(meta, location=params["location"]).items() if v is not None)
    return module.call("POST", "templates", payload=body)


def update(module, current, checksum):
    """Upload missing content, refuse different content, change the description."""
    params = module.params
    result, uploaded = dict(current), False
    if params["src"] and current.get("stored"):
        if current.get("sha256") != checksum:
            module.fail_json(msg="template %s version %s already holds other content (SHA-256 %s, yours %s); "
                             "stored content is immutable: upload it as a new version"
                             % (params["name"], params["version"], current.get("sha256"), checksum))
    elif params["src"]:
        uploaded = True
        result.update(sha256=checksum, stored=True)
        if not module.check_mode:
            result = module.run(module.client.upload, "PUT", "templates/%d/content" % current["id"],
                                params["src"], {"filename": os.path.basename(params["src"])})
    if params["description"] is not None and params["description"] != current.get("description"):
        result["description"] = params["description"]
        if not module.check_mode:
            result = module.call("PATCH", "templates/%d" % current["id"],
                                 payload={"description": params["description"]})
    return result != current or uploaded, uploaded, result


def main():
    module = PureBootModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="str", default="1"),
            kind=dict(type="str", choices=KINDS),
            src=dict(type="path"),
            sha256=dict(type="str"),
            location=dict(type="str"),
            description=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        mutually_exclusive=[("src", "location")],
        supports_check_mode=True,
    )
    params = module.params
    current = module.run(module.client.find_one, "templates", {"name": params["name"], "version": params["version"]})
    if params["state"] == "absent":
        if current and not module.check_mode:
            module.call("DELETE", "templates/%d" % current["id"])
        module.exit_json(changed=bool(current), template={}, uploaded=False,
                         diff=dict(before=view(current), after={}))
    checksum = local_checksum(module)
    if current is None:
        result = create(module, checksum)
        changed, uploaded = True, bool(params["src"])
    else:
        changed, uploaded, result = update(module, current, checksum)
    module.exit_json(changed=changed, template=result, uploaded=uploaded,
                     diff=dict(before=view(current), after=view(result)))


if __name__ == "__main__":
    main()
