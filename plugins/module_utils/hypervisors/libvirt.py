# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt driver, over libvirt-python (``import libvirt``, imported on first use).

Domain XML is built and edited with xml.etree, never by pasting user input into text.
Created VMs carry ``<metadata><pureboot:vm xmlns:pureboot="https://pureboot.dev/xmlns/libvirt/1"
created="true"/></metadata>``. The rule for templates: a domain is a template when that
element has ``template="true"`` (set it with ``virsh metadata``); templates are left out
of list_vms. delete_vm removes the volumes of a VM PureBoot created or cloned, nothing
of other VMs. Disks are qcow2 volumes in a storage pool (default V(default)), named
``<vm>-disk<N>.qcow2``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import xml.etree.ElementTree as ET

from ansible_collections.pureboot.pureboot.plugins.module_utils.hypervisors.base import (
    Driver, HypervisorError, check_boot_order, normalize_spec, vm_record)

NS = "https://pureboot.dev/xmlns/libvirt/1"
ET.register_namespace("pureboot", NS)
META = "{%s}vm" % NS

# libvirt's <boot dev> names <-> ours
TO_DEV = {"network": "network", "disk": "hd", "cdrom": "cdrom"}
FROM_DEV = dict((v, k) for k, v in TO_DEV.items())
# virDomainState -> power_state: running/blocked/shutting down are running, paused and
# pmsuspended are paused, shutoff and crashed are stopped.
STATES = {1: "running", 2: "running", 3: "paused", 4: "running", 5: "stopped", 6: "stopped", 7: "paused"}
MEMORY_UNITS = {"b": 1.0 / 2 ** 20, "bytes": 1.0 / 2 ** 20, "k": 1.0 / 1024, "kib": 1.0 / 1024,
                "kb": 1000.0 / 2 ** 20, "m": 1, "mib": 1, "mb": 10 ** 6 / 2.0 ** 20, "g": 1024, "gib": 1024,
                "gb": 10 ** 9 / 2.0 ** 20, "t": 2 ** 20, "tib": 2 ** 20}


def _sub(parent, tag, text=None, **attrs):
    node = ET.SubElement(parent, tag, dict((k, str(v)) for k, v in attrs.items()))
    if text is not None:
        node.text = str(text)
    return node


def _memory_mib(node):
    if node is None or not node.text:
        return 0
    return int(round(int(node.text) * MEMORY_UNITS.get(node.get("unit", "KiB").lower(), 1.0 / 1024)))


def _meta(root):
    return root.find("metadata/" + META)


def parse_domain(xml_text, state):
    """A vm_record from a domain's XML and its virDomainState."""
    root = ET.fromstring(xml_text)
    os_node = root.find("os")
    boots = [FROM_DEV[b.get("dev")] for b in os_node.findall("boot") if b.get("dev") in FROM_DEV] \
        if os_node is not None else []
    if not boots:  # per-device <boot order='N'/> instead of <os><boot/>
        ordered = []
        for dev in root.findall("devices/*"):
            order = dev.find("boot")
            if order is not None and order.get("order"):
                kind = "network" if dev.tag == "interface" else ("cdrom" if dev.get("device") == "cdrom" else "disk")
                ordered.append((int(order.get("order")), kind))
        boots = [kind for dummy, kind in sorted(ordered)]
    uefi = os_node is not None and (os_node.get("firmware") == "efi" or any(
        loader.get("type") == "pflash" for loader in os_node.findall("loader")))
    macs = [m.get("address").lower() for m in root.findall("devices/interface/mac") if m.get("address")]
    vcpu = root.find("vcpu")
    return vm_record(root.findtext("name"), root.findtext("uuid"), STATES.get(state, "unknown"), macs,
                     "uefi" if uefi else "bios", boots, int(vcpu.text) if vcpu is not None else 0,
                     _memory_mib(root.find("memory")))


def is_template(xml_text):
    meta = _meta(ET.fromstring(xml_text))
    return meta is not None and meta.get("template") == "true"


def build_domain(spec, domain_type, disk_paths):
    """Domain XML for a normalized spec; disk_paths are the volumes' paths, in order."""
    root = ET.Element("domain", type=domain_type)
    _sub(root, "name", spec["name"])
    metadata = _sub(root, "metadata")
    ET.SubElement(metadata, META, created="true", template="false")
    _sub(root, "memory", spec["memory_mib"], unit="MiB")
    _sub(root, "vcpu", spec["cpus"])
    os_node = _sub(root, "os", **({"firmware": "efi"} if spec["firmware"] == "uefi" else {}))
    _sub(os_node, "type", "hvm", arch="x86_64", machine=spec.get("machine") or "q35")
    for dev in spec["boot_order"]:
        _sub(os_node, "boot", dev=TO_DEV[dev])
    features = _sub(root, "features")
    _sub(features, "acpi")
    devices = _sub(root, "devices")
    for index, path in enumerate(disk_paths):
        disk = _sub(devices, "disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type="qcow2")
        _sub(disk, "source", file=path)
        _sub(disk, "target", dev="vd" + "abcdefghijklmnopqrstuvwxyz"[index], bus="virtio")
    for nic in spec["networks"]:
        kind = "network" if nic.get("network") else "bridge"
        iface = _sub(devices, "interface", type=kind)
        _sub(iface, "source", **{kind: nic[kind]})
        if nic.get("mac"):
            _sub(iface, "mac", address=nic["mac"])
        _sub(iface, "model", type="virtio")
    return ET.tostring(root, encoding="unicode")


def volume_xml(name, capacity, unit="GiB"):
    root = ET.Element("volume")
    _sub(root, "name", name)
    _sub(root, "capacity", capacity, unit=unit)
    target = _sub(root, "target")
    _sub(target, "format", type="qcow2")
    return ET.tostring(root, encoding="unicode")


class LibvirtDriver(Driver):
    provider = "libvirt"

    def __init__(self, uri=None, username=None, password=None, **_options):
        # username/password: libvirt authenticates through the URI's transport (SSH keys, TLS).
        self.uri = uri
        self._conn = None
        self._libvirt = None

    @contextlib.contextmanager
    def _op(self, operation):
        """Turn libvirt errors (and bad specs) raised inside into HypervisorError."""
        try:
            yield
        except HypervisorError:
            raise
        except ValueError as exc:
            raise self.error(operation, exc)
        except Exception as exc:  # libvirt.libvirtError and friends; the SDK is imported lazily
            if self._libvirt is not None and isinstance(exc, self._libvirt.libvirtError):
                raise self.error(operation, exc.get_error_message() or exc)
            raise

    def conn(self):
        if self._conn is None:
            try:
                import libvirt  # pylint: disable=import-outside-toplevel
            except ImportError:
                raise HypervisorError(self.provider, "connect",
                                      "the libvirt Python bindings are missing (pip install libvirt-python)")
            self._libvirt = libvirt
            # libvirt prints every error to stderr by default; ours go into HypervisorError
            libvirt.registerErrorHandler(lambda *args: None, None)
            with self._op("connect to %s" % (self.uri or "the default URI")):
                self._conn = libvirt.open(self.uri)
        return self._conn

    def close(self):
        if self._conn is not None:
            with self._op("close"):
                self._conn.close()
            self._conn = None

    def _domain(self, name, operation):
        with self._op(operation):
            for dom in self.conn().listAllDomains():
                if dom.name() == name:
                    return dom
        raise HypervisorError(self.provider, operation, "no VM named %r" % name)

    def _xml(self, dom):
        return dom.XMLDesc(self._libvirt.VIR_DOMAIN_XML_INACTIVE)

    def _record(self, dom):
        return parse_domain(dom.XMLDesc(0), dom.state()[0])

    def check(self):
        with self._op("check"):
            conn = self.conn()
            version = conn.getLibVersion()
            return dict(version="%d.%d.%d" % (version // 1000000, version // 1000 % 1000, version % 1000),
                        host=conn.getHostname())

    def _all(self, operation):
        with self._op(operation):
            domains = sorted(self.conn().listAllDomains(), key=lambda d: d.name())
            return [(dom, is_template(self._xml(dom))) for dom in domains]

    def list_vms(self):
        with self._op("list_vms"):
            return [self._record(dom) for dom, template in self._all("list_vms") if not template]

    def list_templates(self):
        with self._op("list_templates"):
            return [self._record(dom) for dom, template in self._all("list_templates") if template]

    def get_vm(self, name):
        with self._op("get_vm"):
            for dom in self.conn().listAllDomains():
                if dom.name() == name:
                    return self._record(dom)
        return None

    def _new_volumes(self, operation, name, disks, sources=None):
        """Create (or, with sources, clone) one volume per disk; returns their paths."""
        created = []
        try:
            with self._op(operation):
                for index, disk in enumerate(disks):
                    pool = self.conn().storagePoolLookupByName(disk.get("pool") or "default")
                    vol_name = "%s-disk%d.qcow2" % (name, index)
                    if sources:
                        capacity = sources[index].info()[1]  # (type, capacity, allocation) in bytes
                        vol = pool.createXMLFrom(volume_xml(vol_name, capacity, "bytes"), sources[index], 0)
                    else:
                        vol = pool.createXML(volume_xml(vol_name, disk["size_gib"]), 0)
                    created.append(vol)
            return [vol.path() for vol in created]
        except HypervisorError:
            self._drop_volumes(created)
            raise

    @staticmethod
    def _drop_volumes(volumes):
        for vol in volumes:
            try:
                vol.delete(0)
            except Exception:  # pylint: disable=broad-except
                pass  # best effort while reporting the first error

    def create_vm(self, spec):
        operation = "create_vm %s" % spec.get("name")
        with self._op(operation):
            spec = normalize_spec(spec)
            if self.get_vm(spec["name"]) is not None:
                raise HypervisorError(self.provider, operation, "a VM with that name exists")
            domain_type = "test" if self.conn().getType() == "TEST" else "kvm"
        paths = self._new_volumes(operation, spec["name"], spec["disks"])
        try:
            with self._op(operation):
                dom = self.conn().defineXML(build_domain(spec, domain_type, paths))
                return self._record(dom)
        except HypervisorError:
            self._drop_volumes([self.conn().storageVolLookupByPath(p) for p in paths])
            raise

    def delete_vm(self, name):
        operation = "delete_vm %s" % name
        dom = self._domain(name, operation)
        with self._op(operation):
            root = ET.fromstring(self._xml(dom))
            meta = _meta(root)
            if dom.isActive():
                dom.destroy()
            lv = self._libvirt
            # snapshots' metadata and UEFI variables go with the domain
            flags = lv.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            try:
                dom.undefineFlags(flags | lv.VIR_DOMAIN_UNDEFINE_NVRAM)
            except lv.libvirtError as exc:
                if exc.get_error_code() not in (lv.VIR_ERR_INVALID_ARG, lv.VIR_ERR_NO_SUPPORT):
                    raise
                dom.undefineFlags(flags)  # a driver without NVRAM (the test driver)
            if meta is not None and meta.get("created") == "true":
                for source in root.findall("devices/disk/source"):
                    if source.get("file"):
                        self.conn().storageVolLookupByPath(source.get("file")).delete(0)

    def power(self, name, action):
        operation = "power %s %s" % (action, name)
        if action not in ("on", "off", "reset", "status"):
            raise HypervisorError(self.provider, operation, "unknown action")
        dom = self._domain(name, operation)
        with self._op(operation):
            state = STATES.get(dom.state()[0], "unknown")
            if action == "on" and state == "paused":
                dom.resume()
            elif action == "on" and state != "running":
                dom.create()
            elif action == "off" and state in ("running", "paused"):
                dom.destroy()
            elif action == "reset":  # a stopped VM is started: reset means "fresh boot now"
                dom.reset(0) if state == "running" else dom.create()
            return STATES.get(dom.state()[0], "unknown")

    def set_boot_order(self, name, order):
        operation = "set_boot_order %s" % name
        dom = self._domain(name, operation)
        with self._op(operation):
            check_boot_order(order)
            root = ET.fromstring(self._xml(dom))
            os_node = root.find("os")
            for boot in os_node.findall("boot"):
                os_node.remove(boot)
            for dev in root.findall("devices/*"):  # per-device order conflicts with <os><boot>
                for boot in dev.findall("boot"):
                    dev.remove(boot)
            position = list(os_node).index(os_node.find("type")) + 1
            for offset, dev in enumerate(order):
                boot = ET.Element("boot", dev=TO_DEV[dev])
                os_node.insert(position + offset, boot)
            # the persistent config changes; a running VM uses it from its next start
            self.conn().defineXML(ET.tostring(root, encoding="unicode"))
            return self._record(dom)

    def clone_vm(self, template, name):
        operation = "clone_vm %s from %s" % (name, template)
        source = self._domain(template, operation)
        with self._op(operation):
            if self.get_vm(name) is not None:
                raise HypervisorError(self.provider, operation, "a VM with that name exists")
            root = ET.fromstring(self._xml(source))
            root.find("name").text = name
            for tag in ("uuid",):
                for node in root.findall(tag):
                    root.remove(node)
            for iface in root.findall("devices/interface"):  # libvirt makes new MACs
                for node in iface.findall("mac") + iface.findall("target"):
                    iface.remove(node)
            metadata = root.find("metadata")
            if metadata is None:
                metadata = _sub(root, "metadata")
            for node in metadata.findall(META):
                metadata.remove(node)
            ET.SubElement(metadata, META, created="true", template="false")
            sources = [s for s in root.findall("devices/disk/source") if s.get("file")]
            volumes = [self.conn().storageVolLookupByPath(s.get("file")) for s in sources]
            disks = [dict(pool=vol.storagePoolLookupByVolume().name()) for vol in volumes]
        paths = self._new_volumes(operation, name, disks, volumes)
        try:
            with self._op(operation):
                for node, path in zip(sources, paths):
                    node.set("file", path)
                return self._record(self.conn().defineXML(ET.tostring(root, encoding="unicode")))
        except HypervisorError:
            self._drop_volumes([self.conn().storageVolLookupByPath(p) for p in paths])
            raise

    def snapshot(self, name, snapshot_name):
        operation = "snapshot %s of %s" % (snapshot_name, name)
        dom = self._domain(name, operation)
        with self._op(operation):
            root = ET.Element("domainsnapshot")
            _sub(root, "name", snapshot_name)
            return dom.snapshotCreateXML(ET.tostring(root, encoding="unicode"), 0).getName()
