# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm and vm_info, run as Ansible runs them (a subprocess each), on libvirt's test driver.

The test driver keeps no state across processes: every run starts from the node XML file
the test wrote (test:///path.xml). So idempotence is shown by running against a file that
already holds the VM in the wanted state, and a change by the result a run reports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

pytest.importorskip("libvirt", reason="libvirt-python is not installed")

from ansible_collections.pureboot.pureboot.tests.unit.plugins.modules.helpers import run_module  # noqa: E402

NODE = """<node>
%(domains)s
  <network><name>default</name><bridge name='virbr0'/><forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'/></network>
  <pool type='dir'><name>pool</name><target><path>/pool</path></target>
    <volume type='file'><name>tmpl.qcow2</name><capacity unit='GiB'>1</capacity></volume></pool>
</node>
"""
DOMAIN = """<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>%(name)s</name>%(meta)s
    <memory unit='MiB'>512</memory><vcpu>2</vcpu>
    <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='network'/><boot dev='hd'/></os>
    <devices><disk type='file' device='disk'><source file='/pool/tmpl.qcow2'/><target dev='vda' bus='virtio'/></disk>
      <interface type='network'><source network='default'/><mac address='52:54:00:00:00:01'/></interface></devices>
    <test:runstate>%(state)d</test:runstate>
  </domain>"""
TEMPLATE_META = "<metadata><pureboot:vm xmlns:pureboot='https://pureboot.dev/xmlns/libvirt/1' template='true'/></metadata>"


@pytest.fixture
def node(tmp_path):
    """node(name=running|stopped, ...) -> a test:/// URI whose file holds those domains."""
    def make(**domains):
        parts = []
        for name, state in domains.items():
            parts.append(DOMAIN % dict(name=name, state=1 if state == "running" else 5,
                                       meta=TEMPLATE_META if state == "template" else ""))
        path = tmp_path / "node.xml"
        path.write_text(NODE % dict(domains="\n".join(parts)))
        return "test://%s" % path
    return make


def vm(uri, check_mode=False, **args):
    return run_module("vm", dict(dict(connection=dict(uri=uri), _ansible_diff=True), **args), check_mode=check_mode)


NEW = dict(name="n1", cpus=2, memory_mib=512, disks=[dict(size_gib=1, pool="pool")],
           networks=[dict(network="default", mac="52:54:00:aa:bb:01")], firmware="uefi")


def test_create_then_present_is_unchanged(node):
    result = vm(node(), **NEW)
    assert result["changed"] is True, result
    assert result["vm"]["macs"] == ["52:54:00:aa:bb:01"] and result["vm"]["power_state"] == "stopped"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["cpus"] == 2
    # the second run: a host that already has the VM
    again = vm(node(n1="stopped"), **NEW)
    assert again["changed"] is False and "already" in again["msg"]
    assert "VM n1 exists; its firmware differ from the options" in str(again["warnings"])


def test_check_mode_creates_nothing(node):
    uri = node()
    result = vm(uri, check_mode=True, state="running", **NEW)
    assert result["changed"] is True and result["vm"]["id"] is None
    assert result["vm"]["power_state"] == "running" and "would be" in result["msg"]
    # nothing was written to the hypervisor's file either
    listing = run_module("vm_info", dict(connection=dict(uri=uri)))
    assert listing["vms"] == []


def test_power_states(node):
    on = vm(node(n1="stopped"), name="n1", state="running")
    assert on["changed"] is True and on["vm"]["power_state"] == "running"
    assert on["diff"] == {"before": dict(on["diff"]["before"], power_state="stopped"),
                          "after": dict(on["diff"]["before"], power_state="running")}
    assert vm(node(n1="running"), name="n1", state="running")["changed"] is False
    off = vm(node(n1="running"), name="n1", state="stopped")
    assert off["changed"] is True and off["vm"]["power_state"] == "stopped"
    assert vm(node(n1="stopped"), name="n1", state="stopped")["changed"] is False
    restarted = vm(node(n1="running"), name="n1", state="restarted")
    assert restarted["changed"] is True and restarted["vm"]["power_state"] == "running"
    planned = vm(node(n1="running"), check_mode=True, name="n1", state="stopped")
    assert planned["changed"] is True and planned["vm"]["power_state"] == "stopped"


def test_boot_order_on_existing_vm(node):
    result = vm(node(n1="stopped"), name="n1", boot_order=["disk", "network"])
    assert result["changed"] is True and result["vm"]["boot_order"] == ["disk", "network"]
    same = vm(node(n1="stopped"), name="n1", boot_order=["network", "disk"])
    assert same["changed"] is False


def test_absent(node):
    gone = vm(node(n1="running"), name="n1", state="absent")
    assert gone["changed"] is True and gone["vm"] == {} and gone["diff"]["after"] == {}
    assert gone["diff"]["before"]["power_state"] == "running"
    assert vm(node(), name="n1", state="absent")["changed"] is False


def test_clone_from_template(node):
    uri = node(tmpl="template")
    result = vm(uri, name="c1", template="tmpl", state="running")
    assert result["changed"] is True, result
    assert result["vm"]["power_state"] == "running" and result["vm"]["macs"] != ["52:54:00:00:00:01"]
    assert "cloned from tmpl" in result["msg"]
    info = run_module("vm_info", dict(connection=dict(uri=uri)))
    assert [t["name"] for t in info["templates"]] == ["tmpl"] and info["vms"] == []
    missing = vm(uri, name="c2", template="nope")
    assert missing["failed"] and missing["msg"] == "libvirt: clone_vm c2 from nope failed: no template named 'nope'"


def test_vm_info_one_by_name(node):
    uri = node(n1="running", n2="stopped")
    info = run_module("vm_info", dict(connection=dict(uri=uri), name="n2"), check_mode=True)
    assert [v["name"] for v in info["vms"]] == ["n2"] and info["vms"][0]["power_state"] == "stopped"
    assert info["changed"] is False and info["hypervisor"]["version"]


def test_bad_uri_fails_clearly(tmp_path):
    uri = "test://%s/missing.xml" % tmp_path
    result = vm(uri, name="n1")
    assert result["failed"] is True
    assert result["msg"].startswith("libvirt: connect to %s failed: " % uri)
    assert "Traceback" not in result["msg"]
    info = run_module("vm_info", dict(connection=dict(uri=uri)))
    assert info["failed"] and info["msg"].startswith("libvirt: connect to ")
