# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt driver against libvirt's in-process test driver (test:///default: no daemon).

Each test opens its own connection; the test driver keeps state per connection, so
nothing leaks between tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

pytest.importorskip("libvirt", reason="libvirt-python is not installed")

from ansible_collections.pureboot.pureboot.plugins.module_utils.hypervisors import (  # noqa: E402
    HypervisorError, driver_for)

SPEC = dict(name="n1", cpus=2, memory_mib=512, firmware="uefi", disks=[dict(size_gib=2, pool="default-pool")],
            networks=[dict(network="default", mac="52:54:00:AA:BB:01")])


@pytest.fixture
def drv():
    driver = driver_for("libvirt", uri="test:///default")
    yield driver
    driver.close()


def test_check_and_list(drv):
    assert drv.check()["version"].count(".") == 2
    assert [vm["name"] for vm in drv.list_vms()] == ["test"]
    assert drv.get_vm("nope") is None


def test_create_reads_back_the_spec(drv):
    vm = drv.create_vm(SPEC)
    assert vm["power_state"] == "stopped"
    assert (vm["cpus"], vm["memory_mib"], vm["firmware"], vm["macs"]) == (2, 512, "uefi", ["52:54:00:aa:bb:01"])
    assert vm["boot_order"] == ["network", "disk"]
    pool = drv.conn().storagePoolLookupByName("default-pool")
    assert "n1-disk0.qcow2" in pool.listVolumes()
    xml = drv.conn().lookupByName("n1").XMLDesc(0)
    assert "firmware='efi'" in xml or 'firmware="efi"' in xml
    with pytest.raises(HypervisorError, match="exists"):
        drv.create_vm(SPEC)


def test_user_input_is_not_xml(drv):
    with pytest.raises(HypervisorError):
        drv.create_vm(dict(SPEC, name="x</name><vcpu>64</vcpu><name>y", disks=[]))
    assert all(vm["cpus"] != 64 for vm in drv.list_vms())


def test_power_cycle(drv):
    drv.create_vm(dict(SPEC, disks=[]))
    assert drv.power("n1", "status") == "stopped"
    assert drv.power("n1", "on") == "running"
    assert drv.power("n1", "reset") == "running"
    assert drv.power("n1", "off") == "stopped"
    assert drv.power("n1", "reset") == "running"  # reset starts a stopped VM


def test_boot_order_snapshot_delete(drv):
    drv.create_vm(SPEC)
    assert drv.set_boot_order("n1", ["disk", "cdrom"])["boot_order"] == ["disk", "cdrom"]
    with pytest.raises(HypervisorError, match="boot_order"):
        drv.set_boot_order("n1", ["floppy"])
    assert drv.snapshot("n1", "before-install") == "before-install"
    drv.delete_vm("n1")
    assert drv.get_vm("n1") is None
    assert "n1-disk0.qcow2" not in drv.conn().storagePoolLookupByName("default-pool").listVolumes()


def test_templates_and_clone(drv):
    drv.create_vm(dict(SPEC, name="tmpl"))
    dom = drv.conn().lookupByName("tmpl")
    import libvirt
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, '<vm template="true"/>', "pureboot",
                    "https://pureboot.dev/xmlns/libvirt/1", libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert [t["name"] for t in drv.list_templates()] == ["tmpl"]
    assert "tmpl" not in [vm["name"] for vm in drv.list_vms()]
    clone = drv.clone_vm("tmpl", "c1")
    tmpl = drv.get_vm("tmpl")
    assert clone["id"] != tmpl["id"] and clone["macs"] and clone["macs"] != tmpl["macs"]
    assert (clone["cpus"], clone["firmware"]) == (2, "uefi")
    assert "c1-disk0.qcow2" in drv.conn().storagePoolLookupByName("default-pool").listVolumes()
    assert "c1" in [vm["name"] for vm in drv.list_vms()]


def test_errors_name_provider_and_operation():
    with pytest.raises(HypervisorError) as err:
        driver_for("libvirt", uri="test:///nonexistent/file.xml").check()
    assert str(err.value).startswith("libvirt: connect to test:///nonexistent/file.xml failed: ")
    drv = driver_for("libvirt", uri="test:///default")
    with pytest.raises(HypervisorError, match="^libvirt: power on ghost failed: no VM named"):
        drv.power("ghost", "on")
    with pytest.raises(HypervisorError, match="unknown provider"):
        driver_for("nope")
