# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""disk_image's idempotency marker: found while the disk matches, refreshed after inject_files wrote into it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.pureboot.pureboot.plugins.module_utils import blockdev, image_deploy

MiB = 1024 * 1024


def test_marker_follows_a_write_by_another_pureboot_step(tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(os.urandom(2 * MiB))
    state = str(tmp_path / "state")
    image_deploy.write_marker(state, str(disk), {"sha256": "a" * 64, "bytes": 2 * MiB,
                                                 "fingerprint": blockdev.fingerprint(str(disk), 2 * MiB)})
    marker = image_deploy.marker_in_place(state, str(disk))
    assert marker and image_deploy.already_deployed(state, str(disk), "a" * 64)

    with open(disk, "r+b") as handle:  # inject_files changes a sampled block (offset 0 always is)
        handle.write(b"changed")
    assert image_deploy.marker_in_place(state, str(disk)) is None
    image_deploy.refresh_marker(state, str(disk), marker)
    assert image_deploy.already_deployed(state, str(disk), "a" * 64)["sha256"] == "a" * 64
    assert image_deploy.already_deployed(state, str(disk), "b" * 64) is None


def test_no_marker_or_a_missing_disk(tmp_path):
    assert image_deploy.marker_in_place(str(tmp_path / "state"), str(tmp_path / "disk.img")) is None
