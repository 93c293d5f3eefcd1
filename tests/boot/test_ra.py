"""IPv6 RA for iPXE: a router solicitation gets a bare RA unicast to its link-local address.

Runs in two network namespaces joined by a veth pair that this test creates and removes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from .procs import ENV_PATH

NS_SERVER, NS_CLIENT = f"pb-boot-ras{os.getpid()}", f"pb-boot-rac{os.getpid()}"

CLIENT = textwrap.dedent("""
    import socket, struct, sys
    idx = socket.if_nametoindex("c0")
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    s.settimeout(5)
    s.sendto(struct.pack("!BBHI", 133, 0, 0, 0), ("ff02::2", 0, 0, idx))
    while True:
        data, anc, _, src = s.recvmsg(1500, 256)
        if data[0] == 134:
            dst = next(socket.inet_ntop(socket.AF_INET6, d[:16]) for lvl, typ, d in anc
                       if typ == socket.IPV6_PKTINFO)
            print(src[0].split("%")[0], dst, data[4], struct.unpack("!H", data[6:8])[0])
            break
""")
SERVER = textwrap.dedent("""
    import logging, sys
    logging.basicConfig(level=logging.INFO)
    from pureboot.bootsvc.ra import RouterAdvertiser
    RouterAdvertiser("s0").serve_forever()
""")


def _ip(*args, ns=None):
    cmd = ["ip", *(["-n", ns] if ns else []), *args]
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def namespaces():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 for network namespaces")
    for ns in (NS_SERVER, NS_CLIENT):
        _ip("netns", "add", ns)
    try:
        for ns in (NS_SERVER, NS_CLIENT):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0",
                            "net.ipv6.conf.all.accept_dad=0"], check=True)
        _ip("link", "add", "s0", "type", "veth", "peer", "name", "c0", "netns", NS_CLIENT, ns=NS_SERVER)
        for ns, dev in ((NS_SERVER, "s0"), (NS_CLIENT, "c0")):
            _ip("link", "set", dev, "up", ns=ns)
        yield
    finally:
        for ns in (NS_SERVER, NS_CLIENT):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _client_address() -> str:
    out = subprocess.run(["ip", "-n", NS_CLIENT, "-6", "-o", "addr", "show", "dev", "c0", "scope", "link"],
                         check=True, capture_output=True, text=True).stdout
    return out.split()[3].split("/")[0]


def test_router_solicitation_gets_unicast_bare_ra(namespaces):
    env = dict(os.environ, PYTHONPATH=ENV_PATH)
    server = subprocess.Popen(["ip", "netns", "exec", NS_SERVER, sys.executable, "-c", SERVER], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        import time
        time.sleep(1.5)  # server socket up; link-local addresses configured (no DAD)
        result = subprocess.run(["ip", "netns", "exec", NS_CLIENT, sys.executable, "-c", CLIENT],
                                capture_output=True, text=True, timeout=20)
        assert result.returncode == 0, result.stderr
        source, destination, hop_limit, lifetime = result.stdout.split()
        assert source.startswith("fe80:")
        assert destination == _client_address()  # unicast to the solicitor, not ff02::1
        assert (hop_limit, lifetime) == ("64", "0")  # bare RA: not a default router
    finally:
        os.kill(server.pid, 9)
        server.wait(5)
