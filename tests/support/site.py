"""A PureBoot site inside a NetLab: controller, site DHCP and the boot service, for real.

    site = Site(lab, workdir, agent=Path(".../agent-build"))
    site.api("POST", "/api/v1/nodes", json={...})
    ...
    site.close()

* controller: ``pureboot serve`` on ``<server_ip>:8080`` (SQLite in the work dir), with
  the built agent copied to ``<data_dir>/agent`` and served at ``/boot/agent/``;
* site DHCP: busybox udhcpd handing out addresses (what a real site already has);
* boot service: ``pureboot boot`` in proxy-DHCP mode on the bridge (iPXE ROMs get the
  controller's script URL over DHCP; IPv6 RA answered so iPXE does not wait for it).
All are processes of the lab, killed by PID when the lab closes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

from .netlab import NetLab

ROOT = Path(__file__).resolve().parents[2]
PORT = 8080


def _pureboot(*args: str) -> list[str]:
    return [sys.executable, "-m", "pureboot.cli", *args]


def boot_service_available() -> bool:
    try:
        import pureboot.bootsvc.service  # noqa: F401
    except ImportError:
        return False
    return True


class Site:
    def __init__(self, lab: NetLab, workdir: Path, agent: Path | None = None, boot_service: bool = True):
        self.lab, self.workdir = lab, Path(workdir)
        self.data = self.workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.url = f"http://{lab.server_ip}:{PORT}"
        self.env = dict(os.environ, PYTHONPATH=f"{ROOT / 'controller'}:{ROOT}",
                        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
                        PUREBOOT_DATA_DIR=str(self.data), PUREBOOT_LISTEN=f"{lab.server_ip}:{PORT}",
                        PUREBOOT_PUBLIC_URL=self.url, PUREBOOT_SECRET_KEY="pb-agent-e2e",
                        PUREBOOT_WORKERS="1", PUREBOOT_THREADS="8",
                        PUREBOOT_AGENT_KERNEL=f"{self.url}/boot/agent/vmlinuz",
                        PUREBOOT_AGENT_INITRD=f"{self.url}/boot/agent/initrd.img",
                        PUREBOOT_AGENT_CMDLINE="console=ttyS0",
                        # The test drives the API without user accounts; the agent itself still
                        # authenticates with its node token (report, phone-home, templates).
                        PUREBOOT_AUTH_REQUIRED="false", PUREBOOT_RATE_LIMITS_ENABLED="false")
        if agent is not None:
            shutil.copytree(agent, self.data / "agent", dirs_exist_ok=True)
        migrated = subprocess.run(_pureboot("db", "upgrade"), env=self.env, capture_output=True, text=True)
        if migrated.returncode != 0:
            raise RuntimeError(f"pureboot db upgrade failed:\n{migrated.stderr[-3000:]}")
        self.controller = lab.popen(_pureboot("serve"), env=self.env,
                                    stdout=open(self.workdir / "controller.log", "wb"), stderr=subprocess.STDOUT)
        self._wait_http()
        self.dhcp = lab.start_dhcp(self.workdir / "dhcp")
        self.boot = self._start_boot_service() if boot_service else None

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data / 'pureboot.db'}"

    def _wait_http(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.controller.poll() is not None:
                raise RuntimeError(f"controller exited:\n{self.log('controller')[-3000:]}")
            try:
                if requests.get(f"{self.url}/api/v1/ping", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"controller did not answer in {timeout}s")

    def _uefi_local_grub(self) -> None:
        """The GRUB that iPXE chains on UEFI to boot the local disk (``uefi_local_boot:
        grub``), built here when the data directory has none yet."""
        target = self.data / "tftp" / "grub" / "localboot-x64.efi"
        if target.exists() or shutil.which("grub-mkstandalone") is None:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "localboot.cfg"
        cfg.write_text("set timeout=0\nsearch --no-floppy --file --set=root /EFI/BOOT/BOOTX64.EFI\n"
                       "chainloader /EFI/BOOT/BOOTX64.EFI\nboot\n")
        subprocess.run(["grub-mkstandalone", "-O", "x86_64-efi", "-o", str(target),
                        "--modules=part_msdos part_gpt fat search search_fs_file chain",
                        "--locales=", "--fonts=", "--themes=", f"boot/grub/grub.cfg={cfg}"],
                       check=True, capture_output=True)

    def _start_boot_service(self) -> subprocess.Popen:
        self._uefi_local_grub()
        root = self.workdir / "tftp"
        root.mkdir(exist_ok=True)
        log = self.workdir / "boot.log"
        proc = self.lab.popen(_pureboot(
            "boot", "--controller", self.url, "--interface", self.lab.bridge, "--address", self.lab.server_ip,
            "--tftp-root", str(root), "--log-level", "DEBUG",
            "--share-dhcp-port"), env=self.env,  # the site's udhcpd holds port 67 in the same namespace
            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while b"boot service up" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"boot service did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        return proc

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def api(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", timeout=30, **kw)

    def node(self, node_id: int) -> dict:
        return self.api("GET", f"/api/v1/nodes/{node_id}").json()

    def events(self, node_id: int) -> list[dict]:
        return self.api("GET", f"/api/v1/nodes/{node_id}/events?order_by=id&page_size=200").json()["results"]

    def wait_state(self, node_id: int, states: set[str] | str, timeout: float, vm=None) -> dict:
        """Poll the node until its state is in `states`; fails early if the VM died."""
        states = {states} if isinstance(states, str) else states
        deadline = time.monotonic() + timeout
        while True:
            node = self.node(node_id)
            if node["state"] in states:
                return node
            if time.monotonic() > deadline or (vm is not None and vm.proc is not None and not vm.running):
                tail = vm.tail() if vm is not None else ""
                raise AssertionError(f"node {node_id} is {node['state']} ({node.get('state_reason')}), "
                                     f"wanted {sorted(states)}\n{tail}")
            time.sleep(1)

    def force_states(self, node_id: int, states: list[str] | tuple[str, ...], actor: str = "e2e-admin") -> None:
        """Walk a node through `states` directly in the database, as an approved admin
        would (stands in for four-eye approvals that are not the subject of a test).
        Runs inside an app context: lifecycle effects may need the app's settings."""
        from pureboot.app import create_app
        from pureboot.config import Settings
        from pureboot.models import Node
        from pureboot.services.nodes import TransitionContext, transition
        app = create_app(Settings(data_dir=str(self.data), database_url=self.database_url,
                                  secret_key=self.env["PUREBOOT_SECRET_KEY"]))
        database = app.extensions["pureboot.db"]
        try:
            with app.app_context(), database.session() as session:
                node = session.get(Node, node_id)
                for state in states:
                    transition(session, node, state, TransitionContext(actor, "forced by the test", approved=True),
                               commit=False)
        finally:
            database.dispose()

    def upload_template(self, path: Path, name: str, kind: str = "raw", version: str = "1") -> dict:
        with open(path, "rb") as fh:
            resp = self.api("POST", f"/api/v1/templates?name={name}&kind={kind}&version={version}",
                            data=fh, headers={"Content-Type": "application/octet-stream"})
        resp.raise_for_status()
        return resp.json()
