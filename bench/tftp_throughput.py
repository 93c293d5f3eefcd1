#!/usr/bin/env python3
"""TFTP throughput: our boot service's TFTP (tftpy) against dnsmasq, same run, same clients.

Inside a network namespace this script creates (loopback only), it serves a 1 MiB file
from both servers and downloads it with N concurrent `curl tftp://` clients at block
sizes 512 and 1468. Prints aggregate MiB/s per server and the ratio ours/dnsmasq.
Needs root, iproute2, dnsmasq (dnsmasq-base) and curl.

    sudo python bench/tftp_throughput.py [--clients 50] [--size-mib 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NS = f"pb-boot-bench-{os.getpid()}"
OURS_PORT, DNSMASQ_PORT = 6969, 69

OUR_SERVER = textwrap.dedent("""
    import logging, sys
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tftpy").setLevel(logging.CRITICAL)
    from pureboot.bootsvc.sockets import Endpoint, bind_udp
    from pureboot.bootsvc.tftp import FileSource, TftpService
    sock = bind_udp(Endpoint("TFTP", "127.0.0.1", int(sys.argv[2]), "the port argument"))
    TftpService(FileSource(sys.argv[1], None)).serve_forever(sock)
""")


def netns(*argv: str) -> list[str]:
    return ["ip", "netns", "exec", NS, *argv]


def wait_udp_listener(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        out = subprocess.run(netns("ss", "-lun"), capture_output=True, text=True).stdout
        if f":{port} " in out:
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on udp {port}")


def run_clients(port: int, clients: int, blksize: int, size: int, workdir: Path) -> float:
    """Wall seconds for `clients` concurrent downloads; checks every byte count."""
    procs = []
    started = time.perf_counter()
    for i in range(clients):
        out = workdir / f"out{i}"
        procs.append((out, subprocess.Popen(netns(
            "curl", "-s", "--tftp-blksize", str(blksize), "--connect-timeout", "30", "-m", "300",
            "-o", str(out), f"tftp://127.0.0.1:{port}/bench.bin"))))
    failures = 0
    for out, proc in procs:
        if proc.wait() != 0 or not out.exists() or out.stat().st_size != size:
            failures += 1
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  warning: {failures} of {clients} downloads from port {port} failed", file=sys.stderr)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--size-mib", type=float, default=1.0)
    parser.add_argument("--blksizes", type=int, nargs="+", default=[512, 1468])
    args = parser.parse_args()
    for tool in ("ip", "dnsmasq", "curl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is required")
    if os.geteuid() != 0:
        raise SystemExit("run as root (network namespace)")
    size = int(args.size_mib * 1024 * 1024)
    workdir = Path(tempfile.mkdtemp(prefix="pb-boot-tftp-bench-"))
    root = workdir / "root"
    root.mkdir()
    (root / "bench.bin").write_bytes(os.urandom(size))
    subprocess.run(["ip", "netns", "add", NS], check=True)
    servers = []
    try:
        subprocess.run(netns("ip", "link", "set", "lo", "up"), check=True)
        env = dict(os.environ, PYTHONPATH=f"{ROOT / 'controller'}:{ROOT}")
        servers.append(subprocess.Popen(netns(sys.executable, "-c", OUR_SERVER, str(root), str(OURS_PORT)),
                                        env=env, start_new_session=True))
        servers.append(subprocess.Popen(netns(
            "dnsmasq", "--no-daemon", "--port=0", "--enable-tftp", f"--tftp-root={root}",
            "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=", "--conf-file=/dev/null",
            "--log-facility=-", "--quiet-tftp"), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_udp_listener(OURS_PORT)
        wait_udp_listener(DNSMASQ_PORT)
        print(f"TFTP throughput: {args.clients} concurrent clients (curl), {args.size_mib:g} MiB file, "
              f"loopback in netns {NS}, {os.cpu_count()} CPUs")
        print(f"{'blksize':>8}{'ours MiB/s':>12}{'dnsmasq MiB/s':>15}{'ours/dnsmasq':>14}")
        total = args.clients * size / (1024 * 1024)
        for blksize in args.blksizes:
            ours = run_clients(OURS_PORT, args.clients, blksize, size, workdir)
            theirs = run_clients(DNSMASQ_PORT, args.clients, blksize, size, workdir)
            print(f"{blksize:>8}{total / ours:>12.2f}{total / theirs:>15.2f}{theirs / ours:>14.3f}", flush=True)
    finally:
        for proc in servers:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait(10)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
