"""A small bootable disk image for deploy tests: BIOS (SYSLINUX) and UEFI (GRUB) in one.

Layout: MBR (SYSLINUX's mbr.bin), one active FAT16 partition from 1 MiB holding
ldlinux.sys + syslinux.cfg (BIOS), /EFI/BOOT/BOOTX64.EFI (a standalone GRUB, UEFI), the
Debian kernel and a busybox initramfs whose init is PHONE_HOME_INIT: it reads
``pureboot.json`` (written into this partition by the agent), gets an address by DHCP,
POSTs to the phone-home URL, counts its boots in ``bootcount`` on the partition, and
reboots after the first boot, powers off after the second.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from pureboot.agent.debian import Kernel

from .bootenv import build_initramfs

MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")
TOOLS = ("mkfs.vfat", "mcopy", "syslinux", "sfdisk", "grub-mkstandalone")
CMDLINE = "console=ttyS0 panic=-1"

PHONE_HOME_INIT = r"""
mkdir -p /boot && mount -t vfat /dev/vda1 /boot || { echo "pb-image: cannot mount /dev/vda1"; poweroff -f; }
n=$(( $(cat /boot/bootcount 2>/dev/null || echo 0) + 1 )); echo $n > /boot/bootcount; sync
echo "pb-image: boot $n from disk ($( [ -d /sys/firmware/efi ] && echo uefi || echo bios ))"
url=$(sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' /boot/pureboot.json)
token=$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' /boot/pureboot.json)
cat > /tmp/dhcp.sh <<'EOS'
#!/bin/sh
[ "$1" = bound ] && ip addr add $ip/${mask:-24} dev $interface && echo $ip > /tmp/ip
exit 0
EOS
chmod +x /tmp/dhcp.sh
ip link set eth0 up
udhcpc -s /tmp/dhcp.sh -i eth0 -n -q -f -t 10 -T 2 >/dev/null 2>&1 || echo "pb-image: no DHCP lease"
ip=$(cat /tmp/ip)
answer=$(wget -q -O- --header "Authorization: Bearer $token" --header "Content-Type: application/json" \
    --post-data "{\"ip\": \"$ip\", \"hostname\": \"pb-image\"}" "$url" 2>&1)
echo "pb-image: phone-home from $ip: $answer"
umount /boot
if [ "$n" -ge 2 ]; then poweroff -f; else reboot -f; fi
"""


def unavailable_reason() -> str | None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing or not MBR.exists():
        return f"missing image tools: {', '.join(missing) or MBR} (syslinux, mtools, dosfstools, grub-efi-amd64-bin)"
    return None


def _run(*argv: str, **kw) -> None:
    subprocess.run(argv, check=True, capture_output=True, **kw)


def _grub_efi(dest: Path, work: Path) -> None:
    cfg = work / "grub.cfg"
    cfg.write_text("set timeout=0\nsearch --no-floppy --file --set=root /pureboot-image\n"
                   f"linux /vmlinuz {CMDLINE}\ninitrd /initrd.img\nboot\n")
    _run("grub-mkstandalone", "-O", "x86_64-efi", "-o", str(dest),
         "--modules=part_msdos part_gpt fat search search_fs_file linux normal",
         "--locales=", "--fonts=", "--themes=", f"boot/grub/grub.cfg={cfg}")


def build_image(path: Path, kernel: Kernel, size_mib: int = 32, init: str = PHONE_HOME_INIT) -> Path:
    """Write the image to `path` (raw) and return it."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="pb-agent-img-") as tmp:
        work = Path(tmp)
        modules = ["virtio_net", "virtio_blk", "virtio_pci", "vfat", "nls_cp437", "nls_ascii"]
        initrd = build_initramfs(work / "initrd.img", kernel, init, modules=modules)
        part_mib = size_mib - 1
        fat = work / "fat.img"
        _run("truncate", "-s", f"{part_mib}M", str(fat))
        _run("mkfs.vfat", "-F", "16", "-n", "PBIMAGE", str(fat))  # FAT16: small images
        _run("syslinux", "--install", str(fat))
        (work / "syslinux.cfg").write_text(
            "DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nSERIAL 0 115200\n"
            f"LABEL linux\n  KERNEL /vmlinuz\n  INITRD /initrd.img\n  APPEND {CMDLINE}\n")
        (work / "pureboot-image").write_text("PureBoot test image\n")
        _grub_efi(work / "BOOTX64.EFI", work)
        _run("mmd", "-i", str(fat), "::/EFI", "::/EFI/BOOT")
        for src, dest in ((kernel.vmlinuz, "::/vmlinuz"), (initrd, "::/initrd.img"),
                          (work / "syslinux.cfg", "::/syslinux.cfg"), (work / "pureboot-image", "::/pureboot-image"),
                          (work / "BOOTX64.EFI", "::/EFI/BOOT/BOOTX64.EFI")):
            _run("mcopy", "-i", str(fat), str(src), dest)
        _run("truncate", "-s", f"{size_mib}M", str(path))
        subprocess.run(["sfdisk", "-q", str(path)], input="label: dos\nstart=2048, type=e, bootable\n",
                       text=True, check=True, capture_output=True)
        with open(path, "r+b") as disk:
            disk.write(MBR.read_bytes()[:440])  # boot code only: keep the partition table
            disk.seek(1024 * 1024)
            with open(fat, "rb") as src:
                shutil.copyfileobj(src, disk, 1 << 20)
    return path
