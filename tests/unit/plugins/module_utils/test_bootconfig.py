# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.pureboot.pureboot.plugins.module_utils import bootconfig


@pytest.mark.parametrize("state,action", [
    ("discovered", "local"), ("installed", "local"), ("active", "local"), ("failed", "local"),
    ("pending", "network"), ("installing", "network"), ("deprovisioning", "network"),
    ("migrating", "network"), ("retired", "refuse"),
])
def test_actions_follow_the_controllers_boot_table(state, action):
    assert bootconfig.action_for(state) == action


def test_discovered_node_without_inventory_netboots_like_the_controller_says():
    """The drift the shared table removed: the controller boots such a node into the agent."""
    from ansible_collections.pureboot.pureboot.plugins.module_utils import boot_decision
    assert boot_decision.decide("discovered", discovery=True, inventoried=False).action == boot_decision.AGENT
    assert bootconfig.action_for("discovered", is_inventoried=False) == "network"
    fresh = {"mac": "aa:bb:cc:dd:ee:01", "state": "discovered", "hardware": {}}
    assert "chain --replace http://c/boot/ipxe" in bootconfig.render_ipxe(fresh, "http://c")
    done = dict(fresh, hardware={"inventoried_at": "2026-12-03T10:00:00"})
    assert "chain --replace" not in bootconfig.render_ipxe(done, "http://c")
    assert "chain --replace" not in bootconfig.render_ipxe({"mac": "aa:bb:cc:dd:ee:02", "state": "discovered"})


@pytest.mark.parametrize("state", ["bogus", ""])
def test_unknown_state_is_an_error(state):
    with pytest.raises(bootconfig.BootConfigError):
        bootconfig.action_for(state)


def test_paths_use_the_names_loaders_ask_for():
    assert bootconfig.paths("AA-BB-CC-DD-EE-FF") == {
        "ipxe": "ipxe/aa-bb-cc-dd-ee-ff.ipxe", "pxelinux": "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff",
        "grub": "grub/grub.cfg-01-aa-bb-cc-dd-ee-ff"}


def test_local_boot_answers_match_the_boot_service():
    node = {"mac": "aa:bb:cc:dd:ee:ff", "state": "active"}
    ipxe = bootconfig.render_ipxe(node)
    assert "sanboot --no-describe --drive 0x80" in ipxe and "chain /grub/localboot-x64.efi" in ipxe
    assert "LOCALBOOT 0" in bootconfig.render_pxelinux(node)
    grub = bootconfig.render_grub(node)
    assert "set root=$esp" in grub and "/EFI/BOOT/BOOTAA64.EFI" in grub and "chainloader (hd0)+1" in grub


def test_network_boot_needs_a_controller_or_a_kernel():
    node = {"mac": "aa:bb:cc:dd:ee:ff", "state": "pending"}
    with pytest.raises(bootconfig.BootConfigError):
        bootconfig.render_ipxe(node)
    script = bootconfig.render_ipxe(node, "http://pb:8080/")
    assert "chain --replace http://pb:8080/boot/ipxe?mac=aa:bb:cc:dd:ee:ff" in script
    direct = dict(node, kernel="vmlinuz", initrd="initrd.img", cmdline="quiet")
    assert "KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND quiet" in bootconfig.render_pxelinux(direct)
    assert "linux vmlinuz quiet" in bootconfig.render_grub(direct)


def test_unknown_state_is_an_error():
    with pytest.raises(bootconfig.BootConfigError):
        bootconfig.render_node({"mac": "aa:bb:cc:dd:ee:ff", "state": "asleep"})
