# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.helpers import run_module

MiB = 1024 * 1024


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def raw_image():
    """6 MiB: random data, a zero hole, a patterned tail (qcow2 leaves the hole unallocated)."""
    rnd = os.urandom(2 * MiB + 12345)
    return rnd + b"\0" * (3 * MiB - 12345) + b"PUREBOOT" * (MiB // 8)


def deploy(tmp_path, url, dest, **extra):
    check = extra.pop("_check", False)
    args = dict(url=url, dest=str(dest), state_dir=str(tmp_path / "state"), retries=3, timeout=10)
    args.update(extra)
    return run_module("disk_image", args, check_mode=check, tmp_path=tmp_path)


def compress(fmt, raw, tmp_path):
    if fmt == "raw":
        return raw
    if fmt == "raw.gz":
        return gzip.compress(raw)
    if not shutil.which("zstd"):
        pytest.skip("zstd not installed")
    return subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True).stdout


@pytest.mark.parametrize("fmt", ["raw", "raw.gz", "raw.zst"])
def test_streams_resumes_and_verifies(http_server, tmp_path, raw_image, fmt):
    served = compress(fmt, raw_image, tmp_path)
    http_server.files["/img"] = served
    http_server.drop_at["/img"] = len(served) // 2
    dest = tmp_path / "disk.img"
    res = deploy(tmp_path, http_server.url + "/img", dest, checksum="sha256:" + sha(served), verify="readback",
                 headers={"Authorization": "Bearer node-secret"})
    assert res.get("changed") is True, res
    assert dest.read_bytes() == raw_image
    assert res["format"] == fmt and res["bytes"] == len(raw_image)
    assert res["sha256"] == sha(served) and res["image_sha256"] == sha(raw_image)
    assert res["resumes"] == 1 and res["verified"] is True
    assert res["mb_per_s"] > 0 and res["seconds"] > 0
    resumed = [r for p, r, a in http_server.requests if r and not r.startswith("bytes=0-")]
    assert resumed == ["bytes=%d-" % (len(served) // 2)]
    assert all(a == "Bearer node-secret" for p, r, a in http_server.requests)
    assert "node-secret" not in str(res)

    again = deploy(tmp_path, http_server.url + "/img", dest, checksum=sha(served))
    assert again["changed"] is False, again
    dest.write_bytes(b"\0" * MiB + raw_image[MiB:])  # the disk was wiped since: write again
    assert deploy(tmp_path, http_server.url + "/img", dest, checksum=sha(served))["changed"] is True
    assert dest.read_bytes() == raw_image


@pytest.mark.parametrize("verify,found", [("none", "downloaded"), ("readback", "the disk reads back")])
def test_checksum_mismatch_fails_with_both_digests_and_kills_the_boot_sector(http_server, tmp_path, raw_image,
                                                                             verify, found):
    """With read-back, a raw image is hashed only there: the same failure, found on the disk."""
    http_server.files["/img"] = raw_image
    dest = tmp_path / "disk.img"
    res = deploy(tmp_path, http_server.url + "/img", dest, checksum="0" * 64, verify=verify)
    assert res["failed"] and "checksum mismatch" in res["msg"] and found in res["msg"], res
    assert "first MiB of %s was zeroed" % dest in res["msg"]
    assert res["expected"] == "0" * 64 and res["actual"] == sha(raw_image)
    assert dest.read_bytes()[:MiB] == b"\0" * MiB


def test_server_without_range_support_still_resumes(http_server, tmp_path, raw_image):
    http_server.ranges = False
    http_server.files["/img"] = raw_image
    http_server.drop_at["/img"] = MiB + 7
    dest = tmp_path / "disk.img"
    res = deploy(tmp_path, http_server.url + "/img", dest, format="raw")
    assert res["changed"] and res["resumes"] == 1, res
    assert dest.read_bytes() == raw_image


def test_server_errors_are_retried_client_errors_are_not(http_server, tmp_path, raw_image):
    http_server.files["/img"] = raw_image
    http_server.fail_once["/img"] = 503
    dest = tmp_path / "disk.img"
    res = deploy(tmp_path, http_server.url + "/img", dest, format="raw")
    assert res.get("changed") is True and res["resumes"] == 1, res
    http_server.fail_once["/img"] = 403
    res = deploy(tmp_path, http_server.url + "/img", dest, format="raw")
    assert res["failed"] and "HTTP 403" in res["msg"] and len(http_server.requests) == 3, res


def test_check_mode_and_errors(http_server, tmp_path, raw_image):
    http_server.files["/img"] = raw_image
    dest = tmp_path / "disk.img"
    res = deploy(tmp_path, http_server.url + "/img", dest, _check=True)
    assert res["changed"] and "would write" in res["msg"] and not dest.exists(), res
    res = deploy(tmp_path, http_server.url + "/missing", dest)
    assert res["failed"] and "HTTP 404" in res["msg"], res
    res = deploy(tmp_path, http_server.url + "/img", dest, checksum="md5:abc")
    assert res["failed"] and "sha256" in res["msg"]


def qemu_img(*args):
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img not installed")
    subprocess.run(("qemu-img",) + args, check=True, capture_output=True)


@pytest.mark.parametrize("options", [[], ["-c"], ["-o", "compat=0.10"], ["-c", "-o", "cluster_size=4096"]])
def test_qcow2_is_written_without_staging(http_server, tmp_path, raw_image, options):
    raw = tmp_path / "src.raw"
    raw.write_bytes(raw_image)
    qcow = tmp_path / "src.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", *(options + [str(raw), str(qcow)]))
    served = qcow.read_bytes()
    http_server.files["/img.qcow2"] = served
    http_server.drop_at["/img.qcow2"] = len(served) - 5000
    dest = tmp_path / "disk.img"
    dest.write_bytes(b"\xff" * (8 * MiB))  # old content: unallocated clusters must read as zero
    res = deploy(tmp_path, http_server.url + "/img.qcow2", dest, checksum=sha(served), verify="readback")
    assert res.get("changed") is True, res
    assert res["format"] == "qcow2" and res["bytes"] == len(raw_image) and res["sha256"] == sha(served)
    assert dest.read_bytes()[:len(raw_image)] == raw_image
    assert res["resumes"] == 1 and res["verified"]


@pytest.mark.parametrize("create,message", [
    (["-o", "encrypt.format=aes,encrypt.key-secret=sec0", "--object", "secret,id=sec0,data=x"], "encrypted"),
    (["BACKING"], "backing file"),
    (["EXTERNAL"], "external data file"),
])
def test_qcow2_refuses_what_it_cannot_write(http_server, tmp_path, create, message):
    path = tmp_path / "bad.qcow2"
    if create == ["BACKING"]:
        qemu_img("create", "-f", "qcow2", str(tmp_path / "base.qcow2"), "1M")
        qemu_img("create", "-f", "qcow2", "-F", "qcow2", "-b", str(tmp_path / "base.qcow2"), str(path))
    elif create == ["EXTERNAL"]:
        qemu_img("create", "-f", "qcow2", "-o", "data_file=%s" % (tmp_path / "data.raw"), str(path), "1M")
    else:
        qemu_img("create", "-f", "qcow2", *(create + [str(path), "1M"]))
    http_server.files["/bad"] = path.read_bytes()
    res = deploy(tmp_path, http_server.url + "/bad", tmp_path / "disk.img")
    assert res["failed"] and message in res["msg"], res


def gpt_image_with_ext4(tmp_path, loop_device):
    """8 MiB raw: GPT, partition 1 (1-5 MiB) holding ext4 with a file."""
    raw = tmp_path / "src.raw"
    with open(str(raw), "wb") as handle:
        handle.truncate(8 * MiB)
    subprocess.run(["sfdisk", "-q", str(raw)], input="label: gpt\n,4MiB,L\n", text=True, check=True)
    dev = loop_device(raw)
    subprocess.run(["partx", "-a", dev], capture_output=True, check=False)
    subprocess.run(["mkfs.ext4", "-q", "-F", dev + "p1"], check=True, capture_output=True)
    subprocess.run(["losetup", "-d", dev], check=True)
    return raw


def ext4_blocks(node):
    out = subprocess.run(["dumpe2fs", "-h", node], capture_output=True, text=True, check=True).stdout
    count = [line.split(":")[1] for line in out.splitlines() if line.startswith("Block count:")][0]
    size = [line.split(":")[1] for line in out.splitlines() if line.startswith("Block size:")][0]
    return int(count) * int(size)


def test_loop_device_qcow2_and_grow_partition(http_server, tmp_path, loop_device):
    """A GPT image with ext4, deployed as qcow2 onto a bigger loop device: partition and ext4 grown."""
    raw = gpt_image_with_ext4(tmp_path, loop_device)
    qcow = tmp_path / "src.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow))
    http_server.files["/gpt.qcow2"] = qcow.read_bytes()
    backing = tmp_path / "loop.img"
    backing.write_bytes(b"\xaa" * (32 * MiB))
    dev = loop_device(backing)
    res = deploy(tmp_path, http_server.url + "/gpt.qcow2", dev, verify="readback", grow_partition=True)
    assert res.get("changed") is True, res
    assert res["grow"]["grown"] is True and res["grow"]["partition"] == 1
    assert res["grow"]["filesystem"] == "ext4" and res["grow"]["resized"] is True
    with open(dev, "rb") as handle:
        handle.seek(6 * MiB)
        assert handle.read(MiB) == b"\0" * MiB  # unallocated in the image: zeroed on the device
    part = sfdisk_json(dev)["partitions"][0]
    assert (part["start"] + part["size"]) * 512 > 30 * MiB
    assert ext4_blocks(dev + "p1") > 28 * MiB
    assert subprocess.run(["e2fsck", "-fn", dev + "p1"], capture_output=True, check=False).returncode == 0


def test_grow_in_an_image_file(http_server, tmp_path, loop_device):
    raw = gpt_image_with_ext4(tmp_path, loop_device)
    http_server.files["/gpt.raw"] = raw.read_bytes()
    dest = tmp_path / "disk.img"
    with open(str(dest), "wb") as handle:
        handle.truncate(24 * MiB)  # a file stands for a bigger disk: the image does not shorten it
    res = deploy(tmp_path, http_server.url + "/gpt.raw", dest, grow_partition=True)
    assert res.get("changed") is True and res["grow"]["resized"] is True, res
    assert dest.stat().st_size == 24 * MiB
    part = sfdisk_json(str(dest))["partitions"][0]
    assert (part["start"] + part["size"]) * 512 > 22 * MiB


def sfdisk_json(device):
    out = subprocess.run(["sfdisk", "--json", device], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["partitiontable"]


def test_https_trusts_ca_path_or_nothing(https_server, tmp_path, raw_image):
    https_server.files["/img"] = raw_image
    dest = tmp_path / "disk.img"
    res = deploy(tmp_path, https_server.url + "/img", dest, retries=0)
    assert res["failed"] and "CERTIFICATE_VERIFY_FAILED" in res["msg"].upper().replace(" ", "_"), res
    assert not dest.exists() or dest.stat().st_size == 0
    res = deploy(tmp_path, https_server.url + "/img", dest, ca_path=https_server.ca_path, checksum=sha(raw_image))
    assert res.get("changed") is True, res
    assert dest.read_bytes() == raw_image
    res = deploy(tmp_path, https_server.url + "/img", dest, validate_certs=False, force=True)
    assert res.get("changed") is True, res


def test_a_mounted_disk_is_refused(http_server, tmp_path, loop_device):
    backing = tmp_path / "fs.img"
    with open(str(backing), "wb") as handle:
        handle.truncate(16 * MiB)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(backing)], check=True, capture_output=True)
    dev = loop_device(backing)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", dev, str(mnt)], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount here")
    try:
        http_server.files["/img"] = b"x" * MiB
        res = deploy(tmp_path, http_server.url + "/img", dev)
        assert res["failed"] and "is mounted" in res["msg"] and str(mnt) in res["msg"], res
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True, check=False)


def test_a_disk_too_small_fails_cleanly(http_server, tmp_path, loop_device, raw_image):
    backing = tmp_path / "small.img"
    backing.write_bytes(b"\x11" * (2 * MiB))
    dev = loop_device(backing)
    http_server.files["/img"] = raw_image
    http_server.files["/img.gz"] = gzip.compress(raw_image)
    res = deploy(tmp_path, http_server.url + "/img", dev)
    assert res["failed"] and "too small" in res["msg"], res
    res = deploy(tmp_path, http_server.url + "/img.gz", dev)
    assert res["failed"] and "write at byte" in res["msg"], res
    with open(dev, "rb") as handle:
        assert handle.read(MiB) == b"\0" * MiB  # the half image cannot boot
