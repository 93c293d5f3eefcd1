"""TFTP (tftpy), read-only and confined to its root, with per-node files from the controller.

tftpy opens files itself, follows symlinks out of its root and accepts uploads. So we
give tftpy an empty directory as its root and serve every read through
``dyn_file_func``, which does the confinement (real paths), the static files and the
dynamic ones; uploads are refused by ``upload_open``. tftpy wants real files (it seeks
and reads them), so dynamic content goes into a temporary file, never a BytesIO.

Dynamic names (fetched from the controller; rendered locally as "boot local" when the
controller is down, Rule D):
    pxelinux.cfg/01-<mac>            /boot/pxelinux.cfg/01-<mac>
    grub/grub.cfg-01-<mac>           /boot/grub/grub.cfg-01-<mac> (also at the root)
    <serial>/config.txt|cmdline.txt  /boot/rpi/<serial>/...  (other <serial>/<f>: rpi/<f>)
    pureboot/local.ipxe              boot the local disk (iPXE clients while offline)
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import socket
import tempfile
import threading
from pathlib import Path
from typing import IO

import tftpy
from tftpy.TftpContexts import TftpContextServer
from tftpy.TftpShared import TftpException

from ..boot.render import UEFI_LOCAL_GRUB, render_local
from .backoff import Backoff
from .client import ControllerClient

log = logging.getLogger("pureboot.bootsvc.tftp")
PXELINUX = re.compile(r"^pxelinux\.cfg/(01-(?:[0-9a-f]{2}-){5}[0-9a-f]{2})$")
GRUB = re.compile(r"^(?:grub/)?(grub\.cfg-01-(?:[0-9a-f]{2}-){5}[0-9a-f]{2})$")
RPI = re.compile(r"^([0-9a-f]{8})/(config\.txt|cmdline\.txt)$")
RPI_OTHER = re.compile(r"^([0-9a-f]{8})/([A-Za-z0-9._-]+)$")
LOCAL_IPXE = "pureboot/local.ipxe"


MAX_SESSIONS = 400  # tftpy select()s on every session socket: stay far below FD_SETSIZE


class _SafeContext(TftpContextServer):
    """tftpy lets non-TFTP errors (bad UTF-8, short packets) escape and end its loop."""

    sessions: dict = {}  # the running server's session table (set by TftpService)

    def start(self, buffer):
        if len(self.sessions) > MAX_SESSIONS:
            raise TftpException(f"more than {MAX_SESSIONS} transfers at once; dropping {self.host}")
        try:
            return super().start(buffer)
        except TftpException:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TftpException(f"malformed request: {type(exc).__name__}: {exc}") from exc

    def cycle(self):
        try:
            return super().cycle()
        except TftpException:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TftpException(f"malformed packet: {type(exc).__name__}: {exc}") from exc


# The server builds its contexts by this module-level name (the package attribute
# tftpy.TftpServer is the class, so fetch the module itself).
importlib.import_module("tftpy.TftpServer").TftpContextServer = _SafeContext


def normalize(filename: str) -> str | None:
    """A clean relative path, or None when it tries to leave the root."""
    if "\0" in filename or len(filename) > 512:
        return None
    parts = [p for p in filename.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


class FileSource:
    """Resolves a requested name to an open file (static, dynamic) or None (not found)."""

    def __init__(self, root: str, client: ControllerClient | None, server_ip: str | None = None):
        self.root = Path(root).resolve()
        self.client = client
        # Rule D on UEFI: the local-boot GRUB comes from us, the controller is down.
        self.local_url = f"tftp://{server_ip}/{UEFI_LOCAL_GRUB}" if server_ip else None

    def open(self, filename: str, raddress: str | None = None, rport: int | None = None,
             **_: object) -> IO[bytes] | None:
        name = normalize(filename)
        if name is None:
            log.warning("refused TFTP path %r from %s", filename, raddress)
            return None
        try:
            dynamic = self._dynamic(name.lower() if _looks_dynamic(name) else name)
        except ConnectionError as exc:
            log.warning("controller unavailable for %s (%s): boot local (Rule D)", name, exc)
            dynamic = self._offline(name)
        if dynamic is not None:
            return _tempfile(dynamic)
        handle = self._static(name)
        if handle is None and (match := RPI_OTHER.match(name)):
            handle = self._static(f"rpi/{match.group(2)}")  # shared Pi firmware
        if handle is None:
            log.info("TFTP %s: not found (from %s)", name, raddress)
        return handle

    def _dynamic(self, name: str) -> bytes | None:
        if name == LOCAL_IPXE:
            return render_local("ipxe", "controller unavailable (Rule D)", local_url=self.local_url).encode()
        for pattern, path in ((PXELINUX, "pxelinux.cfg/{}"), (GRUB, "grub/{}"), (RPI, "rpi/{}/{}")):
            match = pattern.match(name)
            if match:
                if self.client is None:
                    raise ConnectionError("no controller configured")
                return self.client.fetch(path.format(*match.groups()))
        return None

    def _offline(self, name: str) -> bytes | None:
        if PXELINUX.match(name):
            return render_local("pxelinux", "controller unavailable (Rule D)").encode()
        if GRUB.match(name):
            return render_local("grub", "controller unavailable (Rule D)").encode()
        return None  # a Pi moves on to its next boot mode

    def _static(self, name: str) -> IO[bytes] | None:
        try:
            real = (self.root / name).resolve()
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(self.root):
            log.warning("refused %s: it resolves outside the TFTP root", name)
            return None
        if not real.is_file():
            return None
        try:
            return open(real, "rb")
        except OSError:
            return None


def _looks_dynamic(name: str) -> bool:
    return name.lower().startswith(("pxelinux.cfg/", "grub/grub.cfg-", "grub.cfg-"))


def _tempfile(content: bytes) -> IO[bytes]:
    handle = tempfile.TemporaryFile()
    handle.write(content)
    handle.seek(0)
    return handle


def _refuse_upload(path, context):
    log.warning("refused TFTP upload of %s from %s", path, getattr(context, "host", "?"))
    return None


class _BoundSocket:
    """Our bound socket as tftpy's listen() sees it: its bind() is a no-op."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def bind(self, address) -> None:
        pass  # bound up front by the boot service (sockets.py)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _SocketModule:
    """Stands in for `socket` inside tftpy.TftpServer: listen() creates and binds its own
    socket, but the boot service binds every port up front (a conflict must stop it at
    start), so listen() gets the socket this thread bound. Other callers get real sockets."""

    def __init__(self):
        self.bound = threading.local()

    def __getattr__(self, name):
        return getattr(socket, name)

    def socket(self, *args, **kwargs):
        sock = getattr(self.bound, "sock", None)
        return _BoundSocket(sock) if sock is not None else socket.socket(*args, **kwargs)


_TFTPY_SOCKETS = _SocketModule()
importlib.import_module("tftpy.TftpServer").socket = _TFTPY_SOCKETS


class TftpService:
    """tftpy on an empty private root; all reads go through FileSource."""

    def __init__(self, source: FileSource, healthy_after: float = 10.0):
        self.source = source
        self._empty = tempfile.mkdtemp(prefix="pureboot-tftp-")
        os.chmod(self._empty, 0o500)
        self.server = tftpy.TftpServer(self._empty, dyn_file_func=source.open, upload_open=_refuse_upload)
        _SafeContext.sessions = self.server.sessions
        self.backoff = Backoff("TFTP loop", log, healthy_after=healthy_after)
        self._stop = threading.Event()

    def serve_forever(self, sock: socket.socket) -> None:
        """Serve on `sock` (bound by the caller) until stop(); closes it on the way out."""
        address, port = sock.getsockname()
        log.info("TFTP listening on %s:%d, root %s (read-only)", address, port, self.source.root)
        _TFTPY_SOCKETS.bound.sock = sock
        try:
            while not self._stop.is_set():
                if self._listen_once(address, port):
                    return
        finally:
            _TFTPY_SOCKETS.bound.sock = None
            sock.close()

    def _listen_once(self, address: str, port: int) -> bool:
        """One run of tftpy's loop: True when it stopped, False after a failure (backed off)."""
        healthy = self._recovery_timer()
        try:
            self.server.listen(address, port)
            return True
        except Exception as exc:  # noqa: BLE001 - last line of defence: log, back off, go on
            error = exc
        finally:
            if healthy:
                healthy.cancel()  # before any wait: waiting out a backoff is not a healthy run
        self._drop_sessions()
        if self._stop.is_set():
            return True
        self.backoff.failed(error)
        return not self.backoff.wait(self._stop)

    def _recovery_timer(self) -> threading.Timer | None:
        """tftpy's loop gives no sign of health; staying up healthy_after seconds is one."""
        if not self.backoff.failing:
            return None
        timer = threading.Timer(self.backoff.healthy_after, self.backoff.ok)
        timer.daemon = True
        timer.start()
        return timer

    def _drop_sessions(self) -> None:
        for session in list(self.server.sessions.values()):
            try:
                session.end()
            except Exception:  # noqa: BLE001 - closing what is left of a broken session
                pass
        self.server.sessions = _SafeContext.sessions = {}

    def stop(self) -> None:
        self._stop.set()
        self.server.stop(now=True)
        try:
            os.rmdir(self._empty)
        except OSError:
            pass
