# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lay out a TFTP root from Debian packages: iPXE, PXELINUX, GRUB (built here), shim.

Shared by ``pureboot boot-files`` and the collection's ``boot_files`` module. Pure
Python plus the ``grub-mkimage`` tool; no pureboot import. Idempotent: a file is only
written when its content differs, and the result says what changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile

# destination in the TFTP root -> (candidate sources, first existing wins; Debian package)
COPIES = (
    ("undionly.kpxe", ("/usr/lib/ipxe/undionly.kpxe",), "ipxe"),
    ("ipxe.efi", ("/usr/lib/ipxe/ipxe.efi",), "ipxe"),
    ("snponly.efi", ("/usr/lib/ipxe/snponly.efi",), "ipxe"),
    # iPXE as a Linux kernel: PXELINUX configs chain to the controller with it (boot_config)
    ("ipxe.lkrn", ("/usr/lib/ipxe/ipxe.lkrn",), "ipxe"),
    ("pxelinux.0", ("/usr/lib/PXELINUX/pxelinux.0",), "pxelinux"),
    ("lpxelinux.0", ("/usr/lib/PXELINUX/lpxelinux.0",), "pxelinux"),
    ("ldlinux.c32", ("/usr/lib/syslinux/modules/bios/ldlinux.c32",), "syslinux-common"),
    ("libcom32.c32", ("/usr/lib/syslinux/modules/bios/libcom32.c32",), "syslinux-common"),
    ("libutil.c32", ("/usr/lib/syslinux/modules/bios/libutil.c32",), "syslinux-common"),
    ("menu.c32", ("/usr/lib/syslinux/modules/bios/menu.c32",), "syslinux-common"),
    ("chain.c32", ("/usr/lib/syslinux/modules/bios/chain.c32",), "syslinux-common"),
    ("reboot.c32", ("/usr/lib/syslinux/modules/bios/reboot.c32",), "syslinux-common"),
    ("shimx64.efi", ("/usr/lib/shim/shimx64.efi.signed", "/usr/lib/shim/shimx64.efi"), "shim-signed"),
    ("grubnetx64.efi.signed", ("/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed",), "grub-efi-amd64-signed"),
)
REQUIRED_PACKAGES = ("ipxe",)

GRUB_NET_MODULES = ("efinet", "tftp", "http", "net", "normal", "configfile", "linux", "echo", "test",
                    "search", "search_fs_file", "part_gpt", "part_msdos", "fat", "ext2", "chain",
                    "efi_gop", "gzio", "sleep", "reboot", "halt", "regexp")
GRUB_LOCAL_MODULES = ("normal", "part_gpt", "part_msdos", "fat", "chain", "search", "search_fs_file",
                      "echo", "test", "sleep", "reboot", "memdisk", "tar", "configfile")
# (output, grub platform, modules, embedded config or None, package)
GRUB_IMAGES = (
    ("grubx64.efi", "x86_64-efi", GRUB_NET_MODULES, None, "grub-efi-amd64-bin"),
    ("grubaa64.efi", "arm64-efi", GRUB_NET_MODULES, None, "grub-efi-arm64-bin"),
    ("grub/localboot-x64.efi", "x86_64-efi", GRUB_LOCAL_MODULES, "local", "grub-efi-amd64-bin"),
)
GRUB_DIR = "/usr/lib/grub"

# Boots the first EFI loader found on any disk: UEFI "boot local" without walking the
# firmware's remaining network boot entries (which takes minutes on OVMF). The EFI
# chainloader takes its device from $root, so root is set to the ESP first.
EFI_LOADERS = ("/EFI/BOOT/BOOTX64.EFI", "/EFI/debian/shimx64.efi", "/EFI/debian/grubx64.efi",
               "/EFI/ubuntu/shimx64.efi", "/EFI/redhat/shimx64.efi", "/EFI/Microsoft/Boot/bootmgfw.efi")
LOCAL_BOOT_CFG = """\
echo "PureBoot: booting the local disk"
for f in %s; do
  if search --no-floppy --file --set=esp $f; then
    echo "PureBoot: chainloading ($esp)$f"
    set root=$esp
    chainloader $f
    boot
  fi
done
echo "PureBoot: no EFI loader on any disk"
sleep 5
exit
""" % " ".join(EFI_LOADERS)
# Netboot GRUB: per-node configs are tried first by GRUB itself (grub.cfg-01-<mac>).
NET_GRUB_CFG = """\
echo "PureBoot: no per-node GRUB config for this machine; booting the local disk"
configfile $prefix/localboot.cfg
"""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _same(path_a, path_b):
    return (os.path.isfile(path_b) and os.path.getsize(path_a) == os.path.getsize(path_b)
            and sha256_file(path_a) == sha256_file(path_b))


def _place(source, destination, check_mode):
    """Copy source to destination when different; returns True when it changed (or would)."""
    if _same(source, destination):
        return False
    if not check_mode:
        directory = os.path.dirname(destination)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".pureboot-")
        os.close(handle)
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o644)
        os.rename(temporary, destination)  # atomic: TFTP never serves half a file
    return True


def _write_text(destination, text, check_mode):
    handle, temporary = tempfile.mkstemp(prefix=".pureboot-")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    try:
        return _place(temporary, destination, check_mode)
    finally:
        os.unlink(temporary)


def plan(exists=os.path.exists):
    """[(destination, source)] for files present on this machine, and [(destination, package)] missing."""
    found, missing = [], []
    for destination, candidates, package in COPIES:
        source = next((c for c in candidates if exists(c)), None)
        if source is None:
            missing.append((destination, package))
        else:
            found.append((destination, source))
    return found, missing


def _memdisk(config_text, directory):
    """A tar memdisk holding config.cfg: GRUB runs an embedded config with its rescue
    parser (no `if`/`for`), so the image only says `normal (memdisk)/config.cfg`."""
    config = os.path.join(directory, "config.cfg")
    with open(config, "w") as out:
        out.write(config_text)
    archive = os.path.join(directory, "memdisk.tar")
    with tarfile.open(archive, "w", format=tarfile.USTAR_FORMAT) as tar:
        info = tar.gettarinfo(config, arcname="config.cfg")
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""  # reproducible
        with open(config, "rb") as handle:
            tar.addfile(info, handle)
    early = os.path.join(directory, "early.cfg")
    with open(early, "w") as out:
        out.write("normal (memdisk)/config.cfg\n")
    return archive, early


def build_grub(output, platform, modules, config_text, grub_dir=GRUB_DIR, mkimage="grub-mkimage"):
    """Run grub-mkimage for `platform` into `output` (prefix /grub); `config_text`, if
    given, is a full GRUB script (normal mode) run at start from a built-in memdisk."""
    command = [mkimage, "-d", os.path.join(grub_dir, platform), "-O", platform, "-o", output, "-p", "/grub"]
    workdir = tempfile.mkdtemp(prefix="pureboot-grub-")
    try:
        if config_text:
            archive, early = _memdisk(config_text, workdir)
            command += ["-m", archive, "-c", early]
            modules = tuple(modules) + tuple(m for m in ("memdisk", "tar", "normal") if m not in modules)
        result = subprocess.run(command + list(modules), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.returncode != 0:
        raise RuntimeError("grub-mkimage failed for %s: %s" % (platform, result.stderr.decode("utf-8", "replace")))


def _grub_images(root, check_mode, grub_dir, mkimage):
    built, missing = [], []
    for output, platform, modules, config, package in GRUB_IMAGES:
        if not os.path.isdir(os.path.join(grub_dir, platform)) or not _which(mkimage):
            missing.append((output, package))
            continue
        handle, temporary = tempfile.mkstemp(suffix=".efi")
        os.close(handle)
        try:
            build_grub(temporary, platform, modules, LOCAL_BOOT_CFG if config == "local" else None,
                       grub_dir, mkimage)
            if _place(temporary, os.path.join(root, output), check_mode):
                built.append(output)
        finally:
            os.unlink(temporary)
    return built, missing


def _which(program):
    return shutil.which(program) is not None


def install(root, check_mode=False, grub_dir=GRUB_DIR, mkimage="grub-mkimage", exists=os.path.exists):
    """Lay out `root`. Returns {changed, copied, built, missing, failed} (lists of destinations).

    `failed` lists what a required package should have provided; callers treat it as an error.
    """
    root = os.path.abspath(root)
    if not check_mode and not os.path.isdir(root):
        os.makedirs(root, 0o755)
    found, missing = plan(exists)
    copied = [dest for dest, source in found if _place(source, os.path.join(root, dest), check_mode)]
    built, grub_missing = _grub_images(root, check_mode, grub_dir, mkimage)
    missing += grub_missing
    for name, text in (("grub/grub.cfg", NET_GRUB_CFG), ("grub/localboot.cfg", LOCAL_BOOT_CFG)):
        if _write_text(os.path.join(root, name), text, check_mode):
            copied.append(name)
    failed = [dest for dest, package in missing if package in REQUIRED_PACKAGES]
    return {"changed": bool(copied or built), "root": root, "copied": copied, "built": built,
            "missing": ["%s (package %s)" % (dest, package) for dest, package in missing],
            "failed": failed}
