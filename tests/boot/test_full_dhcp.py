"""Full-DHCP mode: leases from the pool, but only for nodes Rule E lets us serve."""

from __future__ import annotations

import pytest

from pureboot.bootsvc.dhcpserver import Pool, PoolConfig

from .procs import BootService, Controller
from .pxeclient import ARCH_BIOS, discover, exchange


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    base = tmp_path_factory.mktemp("full")
    (base / "tftp").mkdir()
    controller = Controller(base / "data")
    service = BootService(controller.url, base / "tftp", base / "boot.log", "--dhcp-mode", "full",
                          "--pool", "10.99.0.10-10.99.0.11", "--netmask", "255.255.255.0",
                          "--router", "10.99.0.1", "--dns", "10.99.0.2")
    yield controller, service
    service.stop()
    controller.stop()


def test_pxe_client_gets_address_and_boot_file(full):
    _, service = full
    reply = exchange(service.dhcp_port, discover("52:54:00:f0:00:01", arch=ARCH_BIOS))
    assert reply["yiaddr"] == "10.99.0.10" and reply["file"] == "undionly.kpxe"
    options = reply["options"]
    assert options["subnet_mask"] == "255.255.255.0" and options["router"] == "10.99.0.1"
    assert options["name_server"] == "10.99.0.2" and options["lease_time"] == 3600
    assert options["vendor_class_id"] == b"PXEClient" and options["vendor_specific"]
    ack = exchange(service.dhcp_port, discover("52:54:00:f0:00:01", arch=ARCH_BIOS, msg_type=3))
    assert ack["options"]["message-type"] == 5 and ack["yiaddr"] == "10.99.0.10"


def test_installer_dhcp_without_pxe_gets_a_plain_lease(full):
    controller, service = full
    controller.api("POST", "/api/v1/nodes", json={"mac": "52:54:00:f0:00:02"})
    reply = exchange(service.dhcp_port, discover("52:54:00:f0:00:02", arch=None, vendor="", uuid=None))
    assert reply["yiaddr"] == "10.99.0.11" and reply["file"] == ""
    assert "vendor_class_id" not in reply["options"]


def test_active_node_gets_no_lease(full):
    controller, service = full
    node = controller.api("POST", "/api/v1/nodes", json={"mac": "52:54:00:f0:00:03"}).json()
    controller.api("PATCH", f"/api/v1/nodes/{node['id']}/state", json={"state": "retired"})
    assert exchange(service.dhcp_port, discover("52:54:00:f0:00:03"), timeout=1.5) is None


def test_pool_reuses_address_and_exhausts():
    pool = Pool(PoolConfig("10.0.0.5", "10.0.0.6", "255.255.255.0"))
    assert pool.lease_for("a").ip == "10.0.0.5"
    assert pool.lease_for("b").ip == "10.0.0.6"
    assert pool.lease_for("a").ip == "10.0.0.5"
    assert pool.lease_for("c") is None
