"""How long `ansible-inventory --list` takes for 10,000 nodes through pureboot.pureboot.nodes.

Starts a real controller (gunicorn, SQLite in a temp dir), loads N nodes straight into its
database (one bulk insert: the API path is measured by the inventory run, not the seeding),
then times the inventory several times. Prints figures; asserts nothing.

    PYTHONPATH=controller:. python bench/inventory_10k.py [--nodes 10000] [--runs 3] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ansible.harness import Ansible, Controller  # noqa: E402


def seed(controller: Controller, count: int) -> float:
    from sqlalchemy.orm import Session

    from pureboot.config import Settings
    from pureboot.db import make_engine
    from pureboot.models import Node

    started = time.perf_counter()
    engine = make_engine(Settings(data_dir=controller.env["PUREBOOT_DATA_DIR"]).database_uri)
    states = ("active", "active", "active", "installed", "discovered", "failed")
    with Session(engine) as session:
        session.add_all(Node(
            mac="02:00:%02x:%02x:%02x:%02x" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255),
            hostname=f"node{i:05d}", state=states[i % len(states)], site=f"site{i % 20}",
            arch="arm64" if i % 10 == 0 else "x86_64", platform="rpi" if i % 10 == 0 else "baremetal",
            firmware="uefi", ip_address=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
            tags=["rack%d" % (i % 40), "bench"], hardware={"cpus": 8, "memory_mb": 32768},
        ) for i in range(count))
        session.commit()
    engine.dispose()
    return time.perf_counter() - started


def baseline_script(ansible: Ansible, controller: Controller, base: Path) -> Path:
    """ansible-core's own cost: the same hosts, groups and hostvars from a static JSON script."""
    started = time.perf_counter()
    nodes, page = [], 1
    while True:  # plain sequential reads: this process never imports the collection
        body = controller.ok("GET", f"nodes?page_size=200&page={page}")
        nodes.extend(body["results"])
        if not body["next"]:
            break
        page += 1
    fetched = time.perf_counter() - started
    hostvars, groups = {}, {}
    for node in nodes:
        host = node["hostname"]
        hostvars[host] = {f"pureboot_{k}": v for k, v in node.items() if k not in ("url", "related")}
        hostvars[host]["ansible_host"] = node["ip_address"]
        for group in (f"state_{node['state']}", f"site_{node['site']}", f"arch_{node['arch']}",
                      f"platform_{node['platform']}", *(f"tag_{t}" for t in node["tags"])):
            groups.setdefault(group, {"hosts": []})["hosts"].append(host)
    data = base / "static.json"
    data.write_text(json.dumps({"_meta": {"hostvars": hostvars}, **groups}))
    script = base / "static_inventory.sh"
    script.write_text(f"#!/bin/sh\ncat {data}\n")
    script.chmod(0o755)
    started = time.perf_counter()
    proc = ansible.inventory(script, "--list", extra_env={"ANSIBLE_INVENTORY_ENABLED": "ansible.builtin.script"})
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    print(f"API read alone ({len(nodes)} nodes, 200 per page, one at a time): {fetched:.2f} s")
    print(f"baseline: same hosts/groups/hostvars from a static JSON script inventory: "
          f"{time.perf_counter() - started:.2f} s")
    return script


PARSE_ONLY = """
import sys, time
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
for label, source in zip(sys.argv[1::2], sys.argv[2::2]):
    started = time.perf_counter()
    hosts = len(InventoryManager(DataLoader(), sources=[source]).hosts)
    print("%s\t%d\t%.3f" % (label, hosts, time.perf_counter() - started))
"""


def parse_only(ansible: Ansible, sources: dict[str, Path]) -> dict[str, float]:
    """Inventory parse alone (no vars merge, no JSON dump), every source in one process."""
    args = [item for label, path in sources.items() for item in (label, str(path))]
    env = dict(ansible.env, ANSIBLE_INVENTORY_ENABLED="pureboot.pureboot.nodes,ansible.builtin.script")
    proc = subprocess.run([sys.executable, "-c", PARSE_ONLY, *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return {label: float(seconds) for label, _, seconds in (line.split("\t") for line in proc.stdout.splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="inventory plugin's parallel page requests")
    parser.add_argument("--server-workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pb-bench-inv-") as tmp:
        base = Path(tmp)
        controller = Controller(base, workers=args.server_workers).start()
        try:
            print(f"seeded {args.nodes} nodes in {seed(controller, args.nodes):.1f} s")
            ansible = Ansible(base, controller)
            variants = {
                "all pureboot_* hostvars": {},
                "hostvars [id, mac, state, hostname, site]": {"hostvars": ["mac", "state", "hostname", "site"]},
            }
            for label, extra in variants.items():
                config = ansible.write("bench.pureboot.yml", {"plugin": "pureboot.pureboot.nodes",
                                                              "workers": args.workers, "page_size": 200, **extra})
                times = []
                for run in range(args.runs):
                    started = time.perf_counter()
                    proc = ansible.inventory(config, "--list")
                    times.append(time.perf_counter() - started)
                    if proc.returncode != 0:
                        raise SystemExit(proc.stderr)
                    hosts = len(json.loads(proc.stdout)["_meta"]["hostvars"])
                    print(f"{label}: run {run + 1}: ansible-inventory --list, {hosts} hosts, {times[-1]:.2f} s")
                print(f"{label}: median {statistics.median(times):.2f} s, best {min(times):.2f} s")
            started = time.perf_counter()
            proc = ansible.inventory(config, "--graph")
            print(f"ansible-inventory --graph (no hostvars dump): {time.perf_counter() - started:.2f} s")
            script = baseline_script(ansible, controller, base)
            # the two sources alternate twice in one process: import costs fall on the first
            full = ansible.write("full.pureboot.yml", {"plugin": "pureboot.pureboot.nodes",
                                                       "workers": args.workers, "page_size": 200})
            for label, seconds in parse_only(ansible, {"plugin-1": full, "script-1": script,
                                                        "plugin-2": full, "script-2": script}).items():
                print(f"parse only ({label}): {seconds:.2f} s")
            started = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "--version"],
                           env=ansible.env, capture_output=True, check=True)
            baseline = time.perf_counter() - started
            print(f"(ansible-inventory --version alone: {baseline:.2f} s; "
                  f"page_size 200, {args.workers} parallel requests, {args.server_workers} gunicorn workers)")
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
