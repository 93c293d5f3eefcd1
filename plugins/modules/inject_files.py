#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: inject_files
short_description: Write files into a filesystem of a deployed disk image
description:
  - Mounts partition O(partition) of O(dest) in a private temporary directory, writes O(files) there and
    unmounts it. Meant to run right after M(pureboot.pureboot.disk_image), for example to drop the
    phone-home configuration C(pureboot.json) into the image.
  - A block device O(dest) first gets its partition table re-read (C(blockdev --rereadpt), else
    C(partx -u)); the partition's device is looked up in C(/sys/class/block), so V(vda1), V(nvme0n1p1)
    and V(loop0p1) naming all work. An image file O(dest) is attached with
    C(losetup --find --show --partscan) and always detached afterwards.
  - The filesystem type is detected by C(mount) (vfat and ext2/3/4 at least).
  - Each file is written to a temporary file in its directory, synced and renamed over the old one;
    missing parent directories are created (mode 0755).
  - Idempotent. A file whose content and mode already match is left alone; the task reports a change
    only when something was written.
  - Filesystems without Unix modes (vfat, exfat, ntfs) take their modes from mount options, so
    O(files[].mode) is neither set nor compared there.
  - When M(pureboot.pureboot.disk_image) left a marker for O(dest) in O(state_dir) and O(dest) still
    matched it, the marker gets the new fingerprint afterwards, so disk_image with the same checksum
    still finds its image there (the files and even a mount change the sampled blocks).
  - Refuses a partition that is mounted (also through another loop device of the same image file),
    and paths that leave the filesystem (C(..), symlinks pointing outside, a symlink as the file).
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Mounts the partition read-only, writes nothing and reports which files would change.
  diff_mode:
    support: full
    description: Per file, the sha256 and mode before and after (never the content).
options:
  dest:
    description: Block device (for example V(/dev/vda)) or image file holding a partitioned image.
    type: path
    required: true
  partition:
    description: Number of the partition holding the filesystem.
    type: int
    default: 1
  files:
    description: Files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Path inside the filesystem; the leading V(/) is optional.
        type: str
        required: true
      content:
        description: Content of the file, written as UTF-8. Never logged.
        type: str
        required: true
      mode:
        description: Octal mode, quoted in YAML.
        type: str
        default: "0644"
  state_dir:
    description: Where M(pureboot.pureboot.disk_image) keeps its idempotency markers.
    type: path
    default: /var/lib/pureboot/disk_image
requirements:
  - util-linux (losetup, blockdev, partx, mount, umount); the kernel's filesystem drivers.
notes:
  - Needs root.
seealso:
  - module: pureboot.pureboot.disk_image
"""

EXAMPLES = r"""
- name: Deploy the image
  pureboot.pureboot.disk_image:
    url: "{{ pureboot_controller_url }}/api/v1/templates/{{ pureboot_templates[0] }}/content"
    dest: /dev/vda

- name: Drop the phone-home configuration into its first partition
  pureboot.pureboot.inject_files:
    dest: /dev/vda
    partition: 1
    files:
      - path: pureboot.json
        content: "{{ {'url': pureboot_controller_url, 'token': node_token} | to_json }}"
        mode: "0600"

- name: Add a file to the root filesystem of an image file
  pureboot.pureboot.inject_files:
    dest: /srv/images/debian-12.raw
    partition: 2
    files:
      - path: /etc/motd
        content: "Provisioned by PureBoot\n"
"""

RETURN = r"""
partition:
  description: The partition device used (for an image file, the loop device's partition, gone afterwards).
  returned: success
  type: str
  sample: /dev/vda1
filesystem:
  description: The filesystem type mount detected.
  returned: success
  type: str
  sample: vfat
files:
  description: One entry per file of O(files), in order.
  returned: success
  type: list
  elements: dict
  contains:
    path: {description: Absolute path inside the filesystem., type: str}
    changed:
      description: Whether the file was written or its mode changed (in check mode, whether it would be).
      type: bool
    sha256: {description: sha256 of the wanted content., type: str}
    mode: {description: The file's mode afterwards (what the filesystem shows)., type: str}
  sample:
    - path: /pureboot.json
      changed: true
      sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
      mode: "0600"
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev, filesystems, image_deploy, inject


def refuse_mounted(module, node, what):
    users = blockdev.mounted_users(node)
    if users:
        module.fail_json(msg="%s (%s) is mounted at %s; refusing to write into a mounted filesystem"
                         % (node, what, ", ".join(users)))


def attached_loops(module, path):
    """Loop devices an image file is already attached to (``losetup -j``)."""
    rc, out, err = module.run_command(["losetup", "-j", path])
    return [line.split(":", 1)[0] for line in out.splitlines() if rc == 0 and ":" in line]


def inject_into(module, node, specs):
    with filesystems.Mount(module.run_command, node, readonly=module.check_mode) as mount:
        files, diffs = inject.apply(mount.path, mount.fstype, specs, module.check_mode)
    return mount.fstype, files, diffs


def main():
    module = AnsibleModule(argument_spec=dict(
        dest=dict(type="path", required=True),
        partition=dict(type="int", default=1),
        files=dict(type="list", elements="dict", required=True, options=dict(
            path=dict(type="str", required=True),
            content=dict(type="str", required=True, no_log=True),
            mode=dict(type="str", default="0644"),
        )),
        state_dir=dict(type="path", default="/var/lib/pureboot/disk_image"),
    ), supports_check_mode=True)
    dest, number = module.params["dest"], module.params["partition"]
    what = "partition %d of %s" % (number, dest)
    try:
        specs = [inject.wanted(spec) for spec in module.params["files"]]
    except inject.InjectError as exc:
        module.fail_json(msg="%s: %s" % (what, exc))
    if not os.path.exists(dest):
        module.fail_json(msg="%s not found" % dest)
    if number < 1:
        module.fail_json(msg="partition must be 1 or more (got %d)" % number)
    state_dir = module.params["state_dir"]
    marker = None if module.check_mode else image_deploy.marker_in_place(state_dir, dest)
    try:
        if blockdev.is_block(dest):
            node = filesystems.find_partition(module.run_command, dest, number)
            refuse_mounted(module, node, what)
            fstype, files, diffs = inject_into(module, node, specs)
        else:
            for loop in attached_loops(module, dest):  # the same image, attached and mounted elsewhere
                refuse_mounted(module, filesystems.partition_node(loop, number), what)
            with filesystems.Loop(module.run_command, dest, readonly=module.check_mode) as loop:
                node = filesystems.find_partition(module.run_command, loop, number)
                fstype, files, diffs = inject_into(module, node, specs)
    except (filesystems.FsError, inject.InjectError, IOError, OSError) as exc:
        module.fail_json(msg="%s: %s" % (what, exc))
    if marker:
        try:
            image_deploy.refresh_marker(state_dir, dest, marker)
        except (IOError, OSError) as exc:
            module.warn("files written, but disk_image's marker could not be refreshed: %s" % exc)
    changed = any(f["changed"] for f in files)
    done = [f["path"] for f in files if f["changed"]]
    if not done:
        msg = "%s: all %d files already match" % (what, len(files))
    else:
        msg = "%s: %s %s" % (what, "would write" if module.check_mode else "wrote", ", ".join(done))
    module.exit_json(changed=changed, partition=node, filesystem=fstype, files=files, diff=diffs, msg=msg)


if __name__ == "__main__":
    main()
