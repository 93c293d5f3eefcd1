# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-node boot configs (iPXE, PXELINUX, GRUB) rendered without the controller.

For sites that run their own TFTP server. The decision is the controller's own table
(``boot_decision``): network boot (chain to the controller) when it would boot the
installer or the agent (pending, installing, deprovisioning, migrating, and discovered
nodes whose hardware is not inventoried yet), the local disk when it would boot local,
refuse when it ignores the node (retired). The local-disk answers are the same as the controller's: iPXE
``sanboot --no-describe --drive 0x80`` (BIOS) or ``exit`` (UEFI), PXELINUX ``LOCALBOOT 0``,
GRUB chain-loading the disk.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pureboot.pureboot.plugins.module_utils import boot_decision
from ansible_collections.pureboot.pureboot.plugins.module_utils.mac import normalize_mac

NETWORK, LOCAL, REFUSE = "network", "local", "refuse"
#: the controller's action -> what a static config does about it
_BY_ACTION = {boot_decision.INSTALL: NETWORK, boot_decision.AGENT: NETWORK, boot_decision.LOCAL: LOCAL,
              boot_decision.DISCOVER: LOCAL, boot_decision.IGNORE: REFUSE}
FORMATS = ("ipxe", "pxelinux", "grub")
#: GRUB image built by boot_files that finds the disk's EFI system partition and boots it.
UEFI_LOCAL_GRUB = "grub/localboot-x64.efi"
#: EFI loaders GRUB looks for on the disks, first found wins (same list as the boot service).
EFI_LOADERS = ("/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/BOOTAA64.EFI", "/EFI/debian/shimx64.efi",
               "/EFI/debian/grubx64.efi", "/EFI/ubuntu/shimx64.efi", "/EFI/Microsoft/Boot/bootmgfw.efi")
GRUB_LOCAL = """insmod part_gpt
insmod fat
insmod chain
if [ "$grub_platform" = "efi" ]; then
  for f in %s; do
    if search --no-floppy --file --set=esp $f; then
      set root=$esp
      chainloader $f
      boot
    fi
  done
  exit
else
  chainloader (hd0)+1
  boot
fi
""" % " ".join(EFI_LOADERS)


class BootConfigError(ValueError):
    pass


def inventoried(node):
    """Whether a discovered node's hardware facts were collected: an explicit
    ``inventoried``, else the marker in ``hardware``; a node given without either is
    taken as inventoried (boot local: never netboot a machine on a guess)."""
    if "inventoried" in node:
        return bool(node["inventoried"])
    if "hardware" in node:
        return bool((node.get("hardware") or {}).get(boot_decision.INVENTORY_MARKER))
    return True


def action_for(state, is_inventoried=True):
    if state not in boot_decision.KNOWN_STATES:
        raise BootConfigError("unknown lifecycle state %r" % (state,))
    return _BY_ACTION[boot_decision.decide(state, discovery=True, inventoried=is_inventoried).action]


def _node_action(node):
    return action_for(node["state"], inventoried(node))


def hexhyp(mac):
    """``aa-bb-cc-dd-ee-ff``: iPXE's ``${mac:hexhyp}``."""
    return normalize_mac(mac).replace(":", "-")


def paths(mac, grub_dir="grub"):
    """Where each format's per-node file lives, relative to the TFTP root."""
    name = "01-" + hexhyp(mac)
    return {"ipxe": "ipxe/%s.ipxe" % hexhyp(mac), "pxelinux": "pxelinux.cfg/%s" % name,
            "grub": "%s/grub.cfg-%s" % (grub_dir.strip("/"), name)}


def _chain_url(node, controller_url):
    if not controller_url:
        raise BootConfigError("node %s must boot from the network (state %s): set controller_url"
                              % (node["mac"], node["state"]))
    return "%s/boot/ipxe?mac=%s" % (controller_url.rstrip("/"), normalize_mac(node["mac"]))


def render_ipxe(node, controller_url=None):
    head = "#!ipxe\n# PureBoot: %s (%s)\n" % (normalize_mac(node["mac"]), node["state"])
    action = _node_action(node)
    if action == NETWORK:
        chain = "chain --replace %s || goto local\nexit\n:local\n" % _chain_url(node, controller_url)
        return head + chain + _ipxe_local()
    if action == REFUSE:
        return head + "echo PureBoot: network boot refused for a retired node\nexit 1\n"
    return head + _ipxe_local()


def _ipxe_local():
    # As the boot service answers: BIOS boots the first disk; UEFI chains the local-boot
    # GRUB image that boot_files builds (a bare "exit" makes OVMF walk its network entries).
    return ("iseq ${platform} efi && goto local_efi ||\nsanboot --no-describe --drive 0x80 || exit\n"
            ":local_efi\nchain /%s || exit\n" % UEFI_LOCAL_GRUB)


def render_pxelinux(node, controller_url=None):
    head = "# PureBoot: %s (%s)\nDEFAULT pureboot\nPROMPT 0\nTIMEOUT 0\nLABEL pureboot\n" % (
        normalize_mac(node["mac"]), node["state"])
    action = _node_action(node)
    if action == LOCAL:
        return head + "  LOCALBOOT 0\n"
    if action == REFUSE:
        return head + "  LOCALBOOT -1\n"
    if node.get("kernel"):
        text = head + "  KERNEL %s\n" % node["kernel"]
        if node.get("initrd"):
            text += "  INITRD %s\n" % node["initrd"]
        return text + "  APPEND %s\n" % (node.get("cmdline") or "")
    # No kernel of its own: load iPXE with the node's iPXE script as its "initrd".
    _chain_url(node, controller_url)
    return head + "  KERNEL ipxe.lkrn\n  INITRD %s\n" % paths(node["mac"])["ipxe"]


def render_grub(node, controller_url=None):
    head = "# PureBoot: %s (%s)\nset timeout=0\n" % (normalize_mac(node["mac"]), node["state"])
    action = _node_action(node)
    if action == REFUSE:
        return head + "echo 'PureBoot: network boot refused for a retired node'\nexit\n"
    if action == LOCAL:
        return head + GRUB_LOCAL
    if not node.get("kernel"):
        # No kernel of its own: hand over to iPXE, which fetches its script like any iPXE boot.
        _chain_url(node, controller_url)
        return head + "insmod chain\nchainloader /ipxe.efi\nboot\n"
    text = head + "menuentry 'PureBoot' {\n  linux %s %s\n" % (node["kernel"], node.get("cmdline") or "")
    if node.get("initrd"):
        text += "  initrd %s\n" % node["initrd"]
    return text + "}\n"


RENDERERS = {"ipxe": render_ipxe, "pxelinux": render_pxelinux, "grub": render_grub}


def render_node(node, formats=FORMATS, controller_url=None, grub_dir="grub"):
    """{relative path: content} of every requested format for one node."""
    where = paths(node["mac"], grub_dir)
    return dict((where[fmt], RENDERERS[fmt](node, controller_url)) for fmt in formats)
