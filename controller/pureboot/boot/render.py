"""Render the boot spec for each loader (one Jinja2 template per loader).

These renderers need no database: the boot service uses :func:`render_local` to answer
"boot the local disk" on its own when the controller is down (Rule D).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .spec import initrd_name

LOADERS = ("ipxe", "pxelinux", "grub", "rpi-config", "rpi-cmdline")
_TEMPLATES = {"ipxe": "ipxe.ipxe.j2", "pxelinux": "pxelinux.cfg.j2", "grub": "grub.cfg.j2",
              "rpi-config": "rpi-config.txt.j2", "rpi-cmdline": "rpi-cmdline.txt.j2"}
#: GRUB image (built by `pureboot boot-files`) that finds the disk's ESP and boots it.
UEFI_LOCAL_GRUB = "grub/localboot-x64.efi"

_env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                   keep_trailing_newline=True, autoescape=False)
# Values end up in loader scripts: no newlines or script syntax may sneak in.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f;`]")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _UNSAFE.sub(" ", value)
    return value


def grub_url(url: str | None) -> str | None:
    """http://host:port/path -> GRUB's (http,host:port)/path; tftp likewise."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "tftp"):
        return url
    return f"({parts.scheme},{parts.netloc}){parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


def uefi_local_url(base_url: str, mode: str) -> str | None:
    return f"{base_url}/boot/files/{UEFI_LOCAL_GRUB}" if mode == "grub" else None


def render(loader: str, spec: dict[str, Any], *, base_url: str, uefi_local: str = "grub",
           local_url: str | None = None) -> str:
    """The config for `loader` from a /api/v1/next spec (kernel None: boot local).

    `local_url` overrides where iPXE on UEFI fetches the local-boot GRUB.
    """
    spec = {k: _clean(v) for k, v in spec.items()}
    context = dict(spec, base_url=base_url, uefi_local_url=local_url or uefi_local_url(base_url, uefi_local),
                   initrd_name=initrd_name(spec.get("initrd")),
                   grub_kernel=grub_url(spec.get("kernel")), grub_initrd=grub_url(spec.get("initrd")),
                   rpi_kernel=posixpath.basename(urlsplit(spec.get("kernel") or "").path) or "kernel8.img",
                   rpi_initrd=posixpath.basename(urlsplit(spec.get("initrd") or "").path) or None)
    context.setdefault("cmdline", "")
    context["cmdline"] = context["cmdline"] or ""
    return _env.get_template(_TEMPLATES[loader]).render(**context)


def render_entry(base_url: str, uefi_local: str = "grub") -> str:
    """The iPXE entry script: chains (replacing itself) to the per-node script."""
    return _env.get_template("ipxe-entry.ipxe.j2").render(
        base_url=base_url, uefi_local_url=uefi_local_url(base_url, uefi_local))


def render_local(loader: str, reason: str, *, local_url: str | None = None) -> str:
    """A "boot the local disk" config without asking anyone (Rule D).

    `local_url`: where iPXE on UEFI gets the local-boot GRUB (the boot service passes
    its own TFTP URL, since the controller is down); None: plain `exit`.
    """
    spec = {"action": "local", "reason": reason, "node_id": None, "kernel": None, "initrd": None,
            "cmdline": ""}
    return render(loader, spec, base_url="", uefi_local="exit", local_url=local_url)
