"""`pureboot serve --tls-self-signed`: a real gunicorn on a free loopback port, checked with curl."""

import os
import socket
import ssl
import subprocess
import sys
import time

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen) -> None:
    for _ in range(150):
        assert proc.poll() is None, proc.stderr.read()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail("pureboot serve did not listen")


@pytest.fixture
def tls_server(tmp_path):
    env = {**os.environ, "PUREBOOT_DATA_DIR": str(tmp_path), "HOME": str(tmp_path),
           "PUREBOOT_SECRET_KEY": "x", "PUREBOOT_WATCHDOG_INTERVAL": "0"}
    cli = [sys.executable, "-m", "pureboot.cli"]
    subprocess.run(cli + ["db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen(cli + ["serve", "--listen", f"127.0.0.1:{port}", "--workers", "1", "--tls-self-signed"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait(port, proc)
        yield port, tmp_path / "tls"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--fail", "--max-time", "10", *args], capture_output=True, text=True)


def test_self_signed_https_verifies_with_generated_cert(tls_server):
    port, tls = tls_server
    cert = tls / "self-signed.crt"
    assert (os.stat(tls / "self-signed.key").st_mode & 0o777) == 0o600
    ok = _curl("--cacert", str(cert), f"https://127.0.0.1:{port}/api/v1/ping")
    assert ok.returncode == 0, ok.stderr
    assert _curl(f"https://127.0.0.1:{port}/api/v1/ping").returncode != 0  # not in the system store
    ssl.create_default_context(cafile=str(cert))  # loads as a CA bundle


def test_self_signed_pair_is_reused(tmp_path):
    from pureboot.tls import self_signed
    first = self_signed(str(tmp_path), "0.0.0.0:8443")
    before = open(first[0], "rb").read()
    assert self_signed(str(tmp_path), "0.0.0.0:8443") == first
    assert open(first[0], "rb").read() == before


def test_collection_client_verifies_with_ca_path(tls_server):
    from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError, PureBootClient
    port, tls = tls_server
    url = f"https://127.0.0.1:{port}"
    assert PureBootClient(url, ca_path=str(tls / "self-signed.crt")).get("ping")
    with pytest.raises(PureBootAPIError, match="CERTIFICATE_VERIFY_FAILED.*ca_path"):
        PureBootClient(url).get("ping")


def test_boot_service_client_verifies_with_ca_bundle(tls_server):
    from pureboot.bootsvc.client import ControllerClient
    port, tls = tls_server
    url = f"https://127.0.0.1:{port}"
    trusted = ControllerClient(url, timeout=10, ca_bundle=str(tls / "self-signed.crt"))
    assert not trusted.dhcp("52:54:00:00:00:01").offline
    assert ControllerClient(url, timeout=10).dhcp("52:54:00:00:00:01").offline  # unverified: refused


def test_base_url_follows_tls():
    from pureboot.config import Settings
    assert Settings(data_dir="/", listen="h:1", tls_self_signed=True).base_url == "https://h:1"
    assert Settings(data_dir="/", listen="h:1").base_url == "http://h:1"
    assert Settings(data_dir="/", tls_self_signed=True, public_url="http://n:80/").base_url == "http://n:80"
