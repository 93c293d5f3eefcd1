"""The VM harness itself: a lab, a VM on a tap, a kernel that reaches a server in the lab."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.support import bootenv
from tests.support import netlab as netlab_mod

pytestmark = pytest.mark.slow

INIT = """
ip link set eth0 up
ip addr add {vm_ip}/24 dev eth0
for i in 1 2 3 4 5 6 7 8 9 10; do
  if wget -q -O /tmp/hello http://{server}:{port}/hello.txt; then break; fi; sleep 1
done
echo "pb-harness: got [$(cat /tmp/hello)] via $(cat /sys/class/net/eth0/address)"
ls /sys/block | grep -q vda && echo "pb-harness: disk vda present"
poweroff -f
"""


@pytest.mark.netlab_prefix("pb-agent-h")
@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_vm_boots_kernel_and_reaches_lab_server(netlab, vm_factory, debian_kernel, tmp_path, firmware):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_text("hello-from-lab")
    server = netlab.popen([sys.executable, "-m", "http.server", "8099", "--bind", netlab.server_ip,
                           "--directory", str(tmp_path / "www")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    netlab.wait_port(8099)  # reachable from the host through the veth
    initrd = bootenv.build_initramfs(tmp_path / "initrd.gz", debian_kernel, INIT.format(
        vm_ip=netlab.address(50), server=netlab.server_ip, port=8099))
    disk = tmp_path / "disk.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(disk), "16M"], check=True)
    vm = vm_factory(netlab, firmware=firmware, kernel=debian_kernel.vmlinuz, initrd=initrd,
                    append="console=ttyS0 panic=-1", disk=disk, boot=("disk",))
    started = time.monotonic()
    vm.start()
    match = vm.wait_for(r"pb-harness: got \[(.*)\] via (\S+)", timeout=150)
    print(f"{firmware}: lab server reached {time.monotonic() - started:.1f}s after power-on")
    assert match.group(1) == "hello-from-lab"
    assert match.group(2) == vm.mac
    vm.wait_for(r"pb-harness: disk vda present", timeout=10)
    assert vm.wait_exit(30) == 0
    netlab.kill(server)
    assert server.poll() is not None


@pytest.mark.netlab_prefix("pb-agent-h")
def test_bios_vm_runs_ipxe_rom_on_serial(netlab, vm_factory):
    """No DHCP in the lab: the NIC's iPXE ROM starts, prints to serial and keeps trying."""
    vm = vm_factory(netlab, firmware="bios", boot=("net",))
    vm.start()
    vm.wait_for(r"iPXE", timeout=60)
    vm.stop()
    assert not vm.running


def test_lab_teardown_removes_namespace_and_kills_processes():
    reason = netlab_mod.unavailable_reason()
    if reason:
        pytest.skip(reason)
    lab = netlab_mod.NetLab("pb-agent-t")
    tap = lab.add_tap()
    proc = lab.popen(["sleep", "300"])
    links = lab.run(["ip", "-o", "link", "show"]).stdout
    assert tap in links and "br0" in links
    lab.close()
    assert proc.poll() is not None
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.ns not in namespaces
    host_links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    assert lab.host_if not in host_links
    lab.close()  # idempotent
