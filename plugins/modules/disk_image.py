#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: disk_image
short_description: Stream a disk image from an HTTP(S) URL straight onto a block device or file
description:
  - Downloads O(url) and writes it to O(dest) as it arrives; nothing is staged in RAM or on disk.
  - C(raw), C(raw.gz) and C(raw.zst) are streamed through the decompressor. C(raw.zst) uses the
    Python C(zstandard) module when it is importable, else the C(zstd) command through a pipe.
  - C(qcow2) (versions 2 and 3, zlib-compressed clusters included) is read with HTTP Range
    requests for its header, L1 and L2 tables, then once in order while each data cluster is
    written to its disk offset. Clusters the image does not allocate read as zero afterwards
    (a block device gets them zeroed, a file is cut to holes). Encrypted images, backing files,
    external data files, extended L2 entries and zstd-compressed clusters are refused.
  - The sha256 returned in RV(sha256) and compared with O(checksum) is that of the B(downloaded
    bytes), the file exactly as served (compressed or qcow2), which is what a template's sha256 is.
    RV(image_sha256) is that of the raw bytes written to O(dest).
  - A C(raw) image with O(checksum) and O(verify=readback) is hashed once, from the read-back
    (the bytes served are the bytes written), so the write runs at the speed of a plain copy; a
    mismatch then means the download or the write went wrong, and fails the same way.
  - A dropped connection is resumed with a Range request at the byte reached, up to O(retries)
    times in a row with doubling backoff; a compressed stream continues where it broke.
  - Refuses a O(dest) that is, or has partitions, mounted.
  - On a checksum mismatch or failed verification the first MiB of O(dest) is zeroed, so an
    unverified image never boots.
  - Idempotent when O(checksum) is given. After a successful write a marker in O(state_dir) records
    the checksum and a fingerprint of O(dest) (sha256 over 16 blocks of 64 KiB spread over the
    image); a later run with the same checksum whose fingerprint still matches changes nothing.
    Without O(checksum) every run writes.
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
attributes:
  check_mode:
    support: full
    description: Downloads nothing; reports whether the image would be written.
  diff_mode:
    support: none
    description: Disk contents have no useful diff.
options:
  url:
    description: HTTP or HTTPS URL of the image.
    type: str
    required: true
  dest:
    description:
      - Block device (for example V(/dev/sda)) or file to write. A file is created when missing and
        never shortened by a raw image (it behaves like a disk).
    type: path
    required: true
  format:
    description: Image format; V(auto) looks at the first bytes of the file.
    type: str
    choices: [auto, raw, raw.gz, raw.zst, qcow2]
    default: auto
  checksum:
    description:
      - Expected sha256 of the downloaded file, as V(sha256:HEX) or V(HEX). A mismatch fails with
        both digests.
    type: str
  verify:
    description:
      - V(readback) re-reads O(dest) past the page cache after the write and compares the sha256 of
        the raw bytes written with what was written.
    type: str
    choices: [none, readback]
    default: none
  grow_partition:
    description:
      - Grow the last partition to the end of O(dest) after the write. Uses C(growpart) (cloud-guest-utils)
        when installed, else C(sfdisk) (util-linux), which first moves a GPT backup header to the end.
      - An ext2/3/4 filesystem in that partition is then grown with C(e2fsck) and C(resize2fs) (e2fsprogs);
        other filesystems are left as they are (XFS grows only mounted, with C(xfs_growfs)). A file O(dest)
        is attached to a loop device (C(losetup), C(partx)) for that.
    type: bool
    default: false
  headers:
    description: Extra HTTP headers, for example C(Authorization) with a node token. Never logged.
    type: dict
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA certificates to trust for HTTPS.
    type: path
  timeout:
    description: Seconds to wait on a connection or a read before it counts as dropped.
    type: int
    default: 30
  retries:
    description: Resumes allowed in a row after dropped connections or server errors.
    type: int
    default: 5
  state_dir:
    description: Where the idempotency markers are kept.
    type: path
    default: /var/lib/pureboot/disk_image
  force:
    description: Write even when the marker says O(dest) already holds the image.
    type: bool
    default: false
notes:
  - Needs root to write block devices. Requires only the Python standard library; C(zstd) or the
    C(zstandard) module for V(raw.zst); C(growpart) or C(sfdisk) for O(grow_partition).
"""

EXAMPLES = r"""
- name: Deploy the Debian template onto the first disk
  pureboot.pureboot.disk_image:
    url: "{{ pureboot_url }}/api/v1/templates/3/content"
    dest: /dev/sda
    checksum: "sha256:{{ template_sha256 }}"
    headers:
      Authorization: "Bearer {{ pureboot_node_token }}"
    ca_path: /etc/pureboot/ca.pem
    verify: readback
    grow_partition: true

- name: Convert a qcow2 served over HTTP into a raw image file
  pureboot.pureboot.disk_image:
    url: http://images.example.com/debian-12.qcow2
    dest: /srv/images/debian-12.raw
"""

RETURN = r"""
bytes:
  description: Size of the raw image written (the virtual size for qcow2).
  returned: success
  type: int
  sample: 2147483648
downloaded_bytes:
  description: Size of the file as served.
  returned: changed
  type: int
seconds:
  description: Time to download and write (without read-back).
  returned: success
  type: float
mb_per_s:
  description: RV(bytes) in MiB per second of RV(seconds).
  returned: success
  type: float
verify_seconds:
  description: Time to hash what was written and read it back, after RV(seconds).
  returned: changed
  type: float
sha256:
  description: sha256 of the downloaded bytes (the file as served).
  returned: success
  type: str
image_sha256:
  description: sha256 of the raw bytes written (for qcow2, of the data clusters in file order).
  returned: changed
  type: str
format:
  description: The format written.
  returned: success
  type: str
  sample: raw.zst
resumes:
  description: How many times the download was resumed.
  returned: changed
  type: int
verified:
  description: Whether the read-back compare ran and matched.
  returned: success
  type: bool
grow:
  description: What O(grow_partition) did.
  returned: when O(grow_partition) is set
  type: dict
  sample: {"grown": true, "partition": 2, "tool": "sfdisk", "filesystem": "ext4", "resized": true}
expected:
  description: The expected digest, on a checksum mismatch.
  returned: failure
  type: str
actual:
  description: The downloaded digest, on a checksum mismatch.
  returned: failure
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev, disk_stream, filesystems, image_deploy


def module_args():
    return dict(
        url=dict(type="str", required=True),
        dest=dict(type="path", required=True),
        format=dict(type="str", default="auto", choices=["auto", "raw", "raw.gz", "raw.zst", "qcow2"]),
        checksum=dict(type="str"),
        verify=dict(type="str", default="none", choices=["none", "readback"]),
        grow_partition=dict(type="bool", default=False),
        headers=dict(type="dict", no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=30),
        retries=dict(type="int", default=5),
        state_dir=dict(type="path", default="/var/lib/pureboot/disk_image"),
        force=dict(type="bool", default=False),
    )


def record(result, checksum, url, dest):
    return {"sha256": checksum or result["sha256"], "url": url, "bytes": result["bytes"],
            "format": result["format"], "written_at": int(time.time()),
            "fingerprint": blockdev.fingerprint(dest, result["bytes"])}


def grow(module, dest):
    """Grow the last partition, then an ext2/3/4 filesystem in it (through a loop device for a file)."""
    done = blockdev.grow_last_partition(module.run_command, module.get_bin_path, dest)
    if not done.get("grown"):
        return done
    number = done["partition"]
    if blockdev.is_block(dest):
        node = filesystems.ensure_nodes(module.run_command, dest, number)[-1]
        done.update(filesystems.grow_filesystem(module.run_command, node))
        return done
    with filesystems.Loop(module.run_command, dest) as loop:
        node = filesystems.ensure_nodes(module.run_command, loop, number)[-1]
        done.update(filesystems.grow_filesystem(module.run_command, node))
    return done


def main():
    module = AnsibleModule(argument_spec=module_args(), supports_check_mode=True)
    p = module.params
    try:
        checksum = image_deploy.normalize_checksum(p["checksum"])
    except image_deploy.DeployError as exc:
        module.fail_json(msg=str(exc))
    mounted = blockdev.mounted_users(p["dest"]) if os.path.exists(p["dest"]) else []
    if mounted:
        module.fail_json(msg="%s is mounted (%s); refusing to overwrite it" % (p["dest"], ", ".join(mounted)))
    marker = None if p["force"] else image_deploy.already_deployed(p["state_dir"], p["dest"], checksum)
    if marker:
        module.exit_json(changed=False, bytes=marker["bytes"], sha256=marker["sha256"], format=marker["format"],
                         seconds=0.0, mb_per_s=0.0, verified=False,
                         msg="%s already holds this image (marker and fingerprint match)" % p["dest"])
    if module.check_mode:
        module.exit_json(changed=True, bytes=0, sha256=checksum, format=p["format"], seconds=0.0, mb_per_s=0.0,
                         verified=False, msg="would write %s to %s" % (p["url"], p["dest"]))

    download = disk_stream.ResumableDownload(
        p["url"], headers=p["headers"], validate_certs=p["validate_certs"], ca_path=p["ca_path"],
        timeout=p["timeout"], retries=p["retries"], log=module.warn)
    deployment = image_deploy.Deployment(download, p["dest"], fmt=p["format"], verify=p["verify"],
                                         checksum=checksum)
    try:
        result = deployment.run()
        if p["grow_partition"]:
            result["grow"] = grow(module, p["dest"])
    except image_deploy.DeployError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    except disk_stream.StreamError as exc:
        module.fail_json(msg="cannot read %s: %s" % (p["url"], exc))
    except (IOError, OSError, ValueError, filesystems.FsError) as exc:
        module.fail_json(msg="writing %s failed: %s" % (p["dest"], exc))
    try:
        image_deploy.write_marker(p["state_dir"], p["dest"], record(result, checksum, p["url"], p["dest"]))
    except (IOError, OSError) as exc:
        module.warn("image written, but the idempotency marker could not be saved: %s" % exc)
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()
