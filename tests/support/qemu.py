"""QEMU VMs for tests: TCG only, virtio NIC on a lab tap, serial console to a file.

    vm = VM(lab, workdir, name="bios1", firmware="bios", mac="52:54:00:12:34:56",
            disk=disk_path, boot=("net", "disk"))
    vm.start()
    vm.wait_for(r"Booting from SAN", timeout=60)
    vm.stop()

BIOS is SeaBIOS with QEMU's built-in iPXE ROM on the virtio NIC; UEFI is OVMF on q35
with a private copy of the variable store (``uefi_network_entries=False`` drops OVMF's own
PXE/HTTP boot entries so that after iPXE the disk boots at once, as on a machine whose
boot order is network, then disk). ``kernel=/initrd=/append=`` boot a Linux
kernel directly (no network boot), which is how a boot environment is tested before a
boot service exists.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Sequence

from .netlab import NetLab

OVMF_DIR = Path("/usr/share/OVMF")
OVMF_PAIRS = (("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"), ("OVMF_CODE.fd", "OVMF_VARS.fd"))
QEMU = "qemu-system-x86_64"
OVMF_NO_NETBOOT = ("IPv4PXESupport", "IPv6PXESupport", "IPv4Support", "IPv6Support", "VirtioNetSupport")


def unavailable_reason(firmware: str = "bios") -> str | None:
    if shutil.which(QEMU) is None:
        return f"{QEMU} is not installed (apt-get install qemu-system-x86)"
    if firmware == "uefi" and ovmf() is None:
        return "OVMF firmware is missing (apt-get install ovmf)"
    return None


def ovmf() -> tuple[Path, Path] | None:
    for code, variables in OVMF_PAIRS:
        if (OVMF_DIR / code).exists() and (OVMF_DIR / variables).exists():
            return OVMF_DIR / code, OVMF_DIR / variables
    return None


def random_mac() -> str:
    return "52:54:00:%02x:%02x:%02x" % (random.randint(0, 255), random.randint(0, 255), random.randint(0, 255))


class VMError(RuntimeError):
    pass


class VM:
    """One QEMU process. Runs inside the lab namespace when it has a NIC."""

    def __init__(self, lab: NetLab | None, workdir: Path, name: str = "vm", *,
                 firmware: str = "bios", mac: str | None = None, tap: str | None = None,
                 disk: Path | None = None, disk_format: str = "raw",
                 boot: Sequence[str] = ("net", "disk"), memory: int = 512, cpus: int = 1,
                 kernel: Path | None = None, initrd: Path | None = None, append: str | None = None,
                 uefi_network_entries: bool = True, extra_args: Sequence[str] = ()):
        if firmware not in ("bios", "uefi"):
            raise ValueError("firmware is 'bios' or 'uefi'")
        self.lab, self.name, self.firmware = lab, name, firmware
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.mac = mac or random_mac()
        self.tap = tap if tap or lab is None else lab.add_tap()
        self.disk, self.disk_format = disk, disk_format
        self.boot, self.memory, self.cpus = tuple(boot), memory, cpus
        self.kernel, self.initrd, self.append = kernel, initrd, append
        self.uefi_network_entries = uefi_network_entries
        self.extra_args = list(extra_args)
        self.serial_log = self.workdir / f"{name}.serial.log"
        self.proc: subprocess.Popen | None = None
        self.started_at: float | None = None
        self._stderr = self.workdir / f"{name}.qemu.err"

    # -- command line ------------------------------------------------------------------

    def argv(self) -> list[str]:
        args = [QEMU, "-accel", "tcg", "-m", str(self.memory), "-smp", str(self.cpus),
                "-name", self.name, "-nodefaults", "-no-user-config",
                "-display", "none", "-vga", "none", "-serial", f"file:{self.serial_log}"]
        args += self._firmware_args()
        bootindex = {kind: i + 1 for i, kind in enumerate(self.boot)}
        if self.tap:
            net = f"virtio-net-pci,netdev=n0,mac={self.mac}"
            if "net" in bootindex:
                net += f",bootindex={bootindex['net']}"
            else:
                net += ",romfile="
            args += ["-netdev", f"tap,id=n0,ifname={self.tap},script=no,downscript=no", "-device", net]
        if self.disk:
            args += ["-drive", f"file={self.disk},format={self.disk_format},if=none,id=d0,cache=unsafe",
                     "-device", "virtio-blk-pci,drive=d0"
                     + (f",bootindex={bootindex['disk']}" if "disk" in bootindex else "")]
        if self.kernel:
            args += ["-kernel", str(self.kernel)]
            if self.initrd:
                args += ["-initrd", str(self.initrd)]
            args += ["-append", self.append or "console=ttyS0"]
        return args + self.extra_args

    def _firmware_args(self) -> list[str]:
        if self.firmware == "bios":
            return ["-machine", "pc,graphics=off"]
        pair = ovmf()
        if pair is None:
            raise VMError("OVMF is not installed")
        code, template = pair
        variables = self.workdir / f"{self.name}.OVMF_VARS.fd"
        if not variables.exists():  # keep the store across restarts: it holds the boot order
            shutil.copyfile(template, variables)
        args = ["-machine", "q35",
                "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                "-drive", f"if=pflash,format=raw,unit=1,file={variables}"]
        if not self.uefi_network_entries:
            # Without these, a NIC that iPXE gave up on is retried by OVMF's own PXEv4/v6 and
            # HTTPv4/v6 entries (minutes) before the disk; real firmware is set to go to disk.
            for option in OVMF_NO_NETBOOT:
                args += ["-fw_cfg", f"name=opt/org.tianocore/{option},string=no"]
        return args

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> "VM":
        if self.running:
            raise VMError(f"{self.name} is already running")
        self.serial_log.write_bytes(b"")
        argv = self.argv()
        with open(self._stderr, "wb") as err:
            if self.lab is not None and self.tap:
                self.proc = self.lab.popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
            else:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                             start_new_session=True)
        self.started_at = time.monotonic()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is not None:
            NetLab.kill(self.proc, timeout)

    def wait_exit(self, timeout: float) -> int:
        """Wait for the guest to power off (QEMU exits); returns QEMU's exit status."""
        if self.proc is None:
            raise VMError(f"{self.name} was never started")
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.name} still running after {timeout}s\n{self.tail()}") from None

    # -- serial console ----------------------------------------------------------------

    def serial(self) -> str:
        try:
            return self.serial_log.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 40) -> str:
        text = "\n".join(self.serial().splitlines()[-lines:])
        err = self._stderr.read_text(errors="replace").strip() if self._stderr.exists() else ""
        out = f"--- {self.name} serial (last {lines} lines) ---\n{text}"
        return out + (f"\n--- qemu stderr ---\n{err}" if err else "")

    def wait_for(self, pattern: str, timeout: float, start: int = 0) -> re.Match:
        """Wait until the serial log (from offset `start`) matches `pattern`.

        Raises TimeoutError (with the log's tail) on timeout, VMError if QEMU exits first.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.serial(), start)
            if match:
                return match
            if not self.running and self.proc is not None:
                match = regex.search(self.serial(), start)
                if match:
                    return match
                raise VMError(f"{self.name} exited ({self.proc.returncode}) before /{pattern}/\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: no /{pattern}/ within {timeout}s\n{self.tail()}")
            time.sleep(0.25)

    def mark(self) -> int:
        """The current length of the serial log: pass as `start` to wait only for new output."""
        return len(self.serial())


def blank_disk(path: Path, size: str = "256M", fmt: str = "raw") -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), size], check=True)
    return path
