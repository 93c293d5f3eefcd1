"""/boot/...: loader configs rendered from the same decision as /api/v1/next.

  /boot/ipxe                      iPXE entry script (no mac) or the node's script
  /boot/pxelinux.cfg/01-<mac>     PXELINUX
  /boot/grub/grub.cfg-01-<mac>    GRUB
  /boot/rpi/<serial>/config.txt   Raspberry Pi firmware (and cmdline.txt)
  /boot/files/<path>              loaders and agent kernel, from boot_files_dir
"""

from __future__ import annotations

import re

from flask import Response, current_app, send_from_directory
from flask.views import MethodView
from sqlalchemy import select

from ..boot.render import render, render_entry
from ..db import get_session
from ..errors import NotFound
from ..models import Node
from .blueprint import Blueprint
from .boot import NextArgs, boot_request, next_spec

blp = Blueprint("bootcfg", __name__, url_prefix="/boot", description="Loader configs for booting nodes")
MAC_IN_NAME = re.compile(r"^(?:01-)?((?:[0-9a-fA-F]{2}[-:]){5}[0-9a-fA-F]{2})$")
SERIAL = re.compile(r"^[0-9A-Za-z]{1,32}$")


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _config(loader: str, args: dict) -> Response:
    settings = current_app.config["PUREBOOT"]
    spec = next_spec(boot_request(args))
    return _text(render(loader, spec, base_url=settings.base_url, uefi_local=settings.uefi_local_boot))


def _mac_from_name(name: str) -> str:
    match = MAC_IN_NAME.match(name)
    if match is None:
        raise NotFound(f"no per-node config named {name!r} (expected 01-<mac>)")
    return match.group(1).replace("-", ":").lower()


@blp.route("/ipxe")
class Ipxe(MethodView):
    @blp.arguments(NextArgs, location="query")
    @blp.response(200, description="an iPXE script (text/plain)")
    def get(self, args):
        """iPXE: the entry script without ?mac, else the node's script"""
        settings = current_app.config["PUREBOOT"]
        if not args.get("mac"):
            return _text(render_entry(settings.base_url, settings.uefi_local_boot))
        return _config("ipxe", args)


@blp.route("/pxelinux.cfg/<name>")
class Pxelinux(MethodView):
    @blp.response(200, description="a PXELINUX config (text/plain)")
    def get(self, name):
        """PXELINUX config for 01-<mac>"""
        return _config("pxelinux", {"mac": _mac_from_name(name), "firmware": "bios"})


@blp.route("/grub/<name>")
class Grub(MethodView):
    @blp.response(200, description="a GRUB config (text/plain)")
    def get(self, name):
        """GRUB config for grub.cfg-01-<mac>"""
        if not name.startswith("grub.cfg-"):
            raise NotFound(f"no GRUB config named {name!r} (expected grub.cfg-01-<mac>)")
        return _config("grub", {"mac": _mac_from_name(name[len("grub.cfg-"):])})


@blp.route("/rpi/<serial>/<any('config.txt','cmdline.txt'):name>")
class RaspberryPi(MethodView):
    @blp.response(200, description="config.txt or cmdline.txt (text/plain); 404 means: boot the next mode")
    def get(self, serial, name):
        """Raspberry Pi netboot files for a registered serial"""
        if not SERIAL.match(serial):
            raise NotFound("not a Raspberry Pi serial")
        node = get_session().scalars(select(Node).where(Node.serial.in_([serial, serial.lower(),
                                                                          serial.lstrip("0")]))).first()
        if node is None:
            raise NotFound(f"no node with serial {serial}; register it first")
        args = {"mac": node.mac, "arch": "arm64", "firmware": "rpi", "serial": node.serial}
        # Only cmdline.txt carries the token, so only it checks in for real (may start
        # the install, rotates the token); config.txt, fetched first, just looks.
        spec = next_spec(boot_request(args), peek=(name == "config.txt"))
        if not spec.get("kernel"):
            # The Pi bootloader moves on to its next boot mode (SD, USB) on "not found".
            return _text(f"# PureBoot: {spec['reason']}\n", status=404)
        loader = "rpi-config" if name == "config.txt" else "rpi-cmdline"
        settings = current_app.config["PUREBOOT"]
        return _text(render(loader, spec, base_url=settings.base_url))


@blp.route("/files/<path:path>")
class Files(MethodView):
    @blp.response(200, description="a file from boot_files_dir (loaders, agent kernel)")
    def get(self, path):
        """Loaders and kernels over HTTP (large files never go over TFTP)"""
        root = current_app.config["PUREBOOT"].boot_files_path
        return send_from_directory(root, path, max_age=300)
