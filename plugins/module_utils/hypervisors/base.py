# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one driver interface every hypervisor provider implements.

The shapes are plain dicts so that modules can return them as they are and the
controller can store them as JSON:

- VM (``list_vms``, ``get_vm``): name, id, power_state (one of POWER_STATES), macs
  (list of lower-case MACs), firmware (bios or uefi), boot_order (list of BOOT_DEVICES),
  cpus, memory_mib.
- spec (``create_vm``): name, cpus, memory_mib, disks [{size_gib, pool}], networks
  [{network or bridge, mac}], firmware, boot_order; ``normalize_spec`` fills the defaults.

Every driver turns its SDK's exceptions into HypervisorError, so that callers report one
line naming the provider and the operation, never a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import abc

POWER_STATES = ("running", "stopped", "paused", "unknown")
POWER_ACTIONS = ("on", "off", "reset", "status")
FIRMWARES = ("bios", "uefi")
BOOT_DEVICES = ("network", "disk", "cdrom")
DEFAULT_BOOT_ORDER = ("network", "disk")

#: The fields a diff shows: what a VM module can change or observe.
DIFF_FIELDS = ("power_state", "cpus", "memory_mib", "boot_order", "macs")


class HypervisorError(Exception):
    """A failed hypervisor call: ``<provider>: <operation> failed: <message>``."""

    def __init__(self, provider, operation, message):
        self.provider, self.operation, self.message = provider, operation, str(message)
        Exception.__init__(self, "%s: %s failed: %s" % (provider, operation, self.message))


def vm_record(name, vm_id, power_state, macs=None, firmware="bios", boot_order=None, cpus=0, memory_mib=0):
    """A VM as every driver reports it."""
    return dict(name=name, id=vm_id, power_state=power_state if power_state in POWER_STATES else "unknown",
                macs=list(macs or []), firmware=firmware, boot_order=list(boot_order or []),
                cpus=int(cpus), memory_mib=int(memory_mib))


def diff_view(vm):
    """The part of a VM a diff shows ({} for no VM)."""
    return dict((key, vm.get(key)) for key in DIFF_FIELDS) if vm else {}


def normalize_spec(spec):
    """Validate a create spec and fill its defaults; raises ValueError naming the bad field."""
    if not spec.get("name"):
        raise ValueError("a VM needs a name")
    out = dict(name=spec["name"], cpus=int(spec.get("cpus") or 1), memory_mib=int(spec.get("memory_mib") or 1024),
               firmware=spec.get("firmware") or "bios",
               boot_order=list(spec.get("boot_order") or DEFAULT_BOOT_ORDER), disks=[], networks=[])
    if out["cpus"] < 1 or out["memory_mib"] < 1:
        raise ValueError("cpus and memory_mib must be positive")
    if out["firmware"] not in FIRMWARES:
        raise ValueError("firmware must be one of %s" % ", ".join(FIRMWARES))
    check_boot_order(out["boot_order"])
    for disk in spec.get("disks") or []:
        if int(disk.get("size_gib") or 0) < 1:
            raise ValueError("each disk needs a positive size_gib")
        out["disks"].append(dict(size_gib=int(disk["size_gib"]), pool=disk.get("pool")))
    for nic in spec.get("networks") or []:
        if bool(nic.get("network")) == bool(nic.get("bridge")):
            raise ValueError("each network needs exactly one of network or bridge")
        out["networks"].append(dict(network=nic.get("network"), bridge=nic.get("bridge"),
                                    mac=nic["mac"].lower() if nic.get("mac") else None))
    return out


def check_boot_order(order):
    bad = [dev for dev in order if dev not in BOOT_DEVICES]
    if bad or len(set(order)) != len(order):
        raise ValueError("boot_order takes each of %s at most once, not %s" % (", ".join(BOOT_DEVICES), order))


class Driver(abc.ABC):
    """One hypervisor connection. Methods raise HypervisorError on any failure."""

    #: The provider name used in DRIVERS and in error messages.
    provider = "base"

    def error(self, operation, exc):
        """The HypervisorError for an SDK exception raised during ``operation``."""
        return HypervisorError(self.provider, operation, exc)

    @abc.abstractmethod
    def check(self):
        """Connect and verify; returns {version, host}."""

    @abc.abstractmethod
    def list_vms(self):
        """Every VM (templates excluded) as vm_record dicts, sorted by name."""

    @abc.abstractmethod
    def get_vm(self, name):
        """The VM named ``name`` (templates included), or None."""

    @abc.abstractmethod
    def create_vm(self, spec):
        """Define a stopped VM from a spec (see normalize_spec); returns the VM."""

    @abc.abstractmethod
    def delete_vm(self, name):
        """Stop and remove the VM and the disks it was created with."""

    @abc.abstractmethod
    def power(self, name, action):
        """Apply an action of POWER_ACTIONS; returns the power state afterwards."""

    @abc.abstractmethod
    def set_boot_order(self, name, order):
        """Make ``order`` (BOOT_DEVICES) the VM's boot order; returns the VM."""

    @abc.abstractmethod
    def list_templates(self):
        """The VMs marked as templates, as vm_record dicts."""

    @abc.abstractmethod
    def clone_vm(self, template, name):
        """A new stopped VM ``name`` from template ``template`` (new identity, MACs, disks)."""

    @abc.abstractmethod
    def snapshot(self, name, snapshot_name):
        """Take a snapshot of the VM; returns the snapshot's name."""

    def close(self):
        """Release the connection (drivers that hold one override this)."""
