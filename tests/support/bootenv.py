"""Boot environments for tests: the cached Debian kernel and small busybox initramfs.

    kernel = debian_kernel()                      # unpacked once into ~/.cache/pureboot
    initrd = build_initramfs(tmp / "initrd.gz", kernel, init_script)

The init script runs as /init under busybox sh after the virtio modules are loaded
(see PREAMBLE); it should end with ``poweroff -f`` or ``reboot -f``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pureboot.agent.debian import Kernel, fetch_kernel
from pureboot.agent.initramfs import VIRTIO_MODULES, Initramfs
from pureboot.agent.kmod import ModuleIndex

BUSYBOX = Path("/bin/busybox")

#: Prepended to test init scripts: mounts, busybox applets, the virtio modules.
PREAMBLE = """#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
while read -r ko; do insmod "$ko" || echo "insmod $ko failed"; done < /etc/modules.order
echo "pb-init: modules loaded"
"""


def unavailable_reason() -> str | None:
    if not BUSYBOX.exists():
        return "busybox-static is not installed"
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return "apt-get/dpkg-deb needed to fetch the Debian kernel"
    return None


def debian_kernel() -> Kernel:
    """Debian's cloud kernel (cached; concurrent callers wait for one download)."""
    return fetch_kernel()


def build_initramfs(path: Path, kernel: Kernel, init_script: str, *,
                   modules: list[str] | None = None, files: dict[str, bytes | str] | None = None) -> Path:
    """Write a gzip'd initramfs with busybox, `modules` (+deps, in order) and /init."""
    image = Initramfs()
    image.add_busybox(BUSYBOX)
    image.add_modules(ModuleIndex(kernel.modules_dir), modules or VIRTIO_MODULES)
    image.add_file("init", PREAMBLE + init_script, 0o755)
    for name, data in (files or {}).items():
        image.add_file(name, data)
    return image.write(path)
