# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypervisor drivers: one module per provider, one interface (base.Driver).

``driver_for("libvirt", uri="qemu:///system")`` returns a connected-on-demand driver.
The provider SDKs are imported inside the drivers, so importing this package never
needs them; a missing SDK is a HypervisorError naming the package to install.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pureboot.pureboot.plugins.module_utils.hypervisors.base import (  # noqa: F401
    HypervisorError, Driver, diff_view, normalize_spec, vm_record)
# Imported by name (not importlib) so that Ansible packs the driver with the module.
from ansible_collections.pureboot.pureboot.plugins.module_utils.hypervisors.libvirt import LibvirtDriver

DRIVERS = {
    "libvirt": LibvirtDriver,
}


def connection_argument_spec():
    """provider and connection options of every module that talks to a hypervisor directly."""
    return dict(
        provider=dict(type="str", default="libvirt", choices=sorted(DRIVERS)),
        connection=dict(type="dict", default={}, options=dict(
            uri=dict(type="str"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
        )),
    )


def driver_for(provider, **connection):
    """The driver for ``provider`` over ``connection`` (provider specific keys)."""
    if provider not in DRIVERS:
        raise HypervisorError(provider, "connect", "unknown provider (known: %s)" % ", ".join(sorted(DRIVERS)))
    return DRIVERS[provider](**connection)
