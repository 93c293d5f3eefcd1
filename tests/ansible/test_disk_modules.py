"""The node-side disk modules under ansible-playbook, by FQCN, against an image file (no controller)."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.ansible.harness import Ansible

MiB = 1024 * 1024


class _NoController:
    url = "http://127.0.0.1:9"  # never contacted by these modules
    token = None


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def local_ansible(tmp_path_factory):
    return Ansible(tmp_path_factory.mktemp("ansible-disk"), _NoController())


@pytest.fixture
def web(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_deploy_wipe_partition_and_facts_by_fqcn(local_ansible, web, tmp_path):
    root, url = web
    raw = b"\0" * 512 + os.urandom(3 * MiB) + b"\0" * MiB  # no chance of an MBR signature
    (root / "img.raw.gz").write_bytes(gzip.compress(raw))
    digest = hashlib.sha256((root / "img.raw.gz").read_bytes()).hexdigest()
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\xff" * (16 * MiB))
    image = {"url": url + "/img.raw.gz", "dest": str(disk), "checksum": "sha256:" + digest, "verify": "readback",
             "state_dir": str(tmp_path / "state")}
    rc, res, _ = local_ansible.playbook([
        {"name": "facts", "pureboot.pureboot.hardware_facts": {}},
        {"name": "wipe", "pureboot.pureboot.disk_wipe": {"disks": [str(disk)]}, "register": "wipe"},
        {"name": "deploy", "pureboot.pureboot.disk_image": image, "register": "deploy"},
        {"name": "again", "pureboot.pureboot.disk_image": image},
        {"name": "cpu", "ansible.builtin.debug": {"msg": "{{ pureboot_hardware.cpu.count }}"}},
    ])
    assert rc == 0, res
    assert res["wipe"]["evidence"][0]["method"].startswith("quick")
    assert res["deploy"]["changed"] and res["deploy"]["sha256"] == digest and res["deploy"]["verified"]
    assert res["again"]["changed"] is False
    assert int(res["cpu"]["msg"]) >= 1
    assert disk.read_bytes()[:len(raw)] == raw

    layout = {"device": str(disk), "force": True,
              "partitions": [{"size": "4MiB", "type": "efi"}, {"size": "rest", "type": "linux"}]}
    rc, res, _ = local_ansible.playbook([{"name": "layout", "pureboot.pureboot.partition": layout}], check=True,
                                        diff=True)
    assert rc == 0 and res["layout"]["changed"] and res["layout"]["table_written"], res
    assert subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True).returncode != 0
    rc, res, _ = local_ansible.playbook([{"name": "layout", "pureboot.pureboot.partition": layout}])
    assert rc == 0 and res["layout"]["changed"], res
    rc, res, _ = local_ansible.playbook([{"name": "layout", "pureboot.pureboot.partition": layout}])
    assert res["layout"]["changed"] is False, res
