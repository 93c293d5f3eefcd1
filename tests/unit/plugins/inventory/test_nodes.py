# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nodes inventory plugin against a small real HTTP server on loopback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

NODES = [
    {"id": i, "url": "/api/v1/nodes/%d" % i, "related": {}, "mac": "52:54:00:00:00:%02x" % i,
     "hostname": "n%d" % i if i != 5 else None, "state": "active" if i % 2 else "discovered",
     "site": "dc1", "arch": "x86_64", "platform": "vm", "workflow_name": "wf-a" if i == 1 else None,
     "tags": ["even"] if i % 2 == 0 else [], "ip_address": "10.0.0.%d" % i if i < 3 else None}
    for i in range(1, 8)
]


class Handler(BaseHTTPRequestHandler):
    queries = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        query = dict((k, v[0]) for k, v in parse_qs(url.query).items())
        Handler.queries.append(query)
        size, page = int(query["page_size"]), int(query.get("page", 1))
        body = {"count": len(NODES), "next": None, "previous": None,
                "results": NODES[(page - 1) * size:page * size]}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture(scope="module")
def server():
    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def parse(tmp_path, url, **options):
    config = tmp_path / "test.pureboot.yml"
    config.write_text(json.dumps(dict({"plugin": "pureboot.pureboot.nodes", "url": url, "page_size": 3}, **options)))
    plugin = inventory_loader.get("pureboot.pureboot.nodes")
    assert plugin.verify_file(str(config))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(config), cache=False)
    return inventory


def test_hosts_groups_and_variables(server, tmp_path):
    Handler.queries[:] = []
    inventory = parse(tmp_path, server)
    assert sorted(inventory.hosts) == ["52-54-00-00-00-05", "n1", "n2", "n3", "n4", "n6", "n7"]
    pages = [q.get("page", "1") for q in Handler.queries]
    # Page 1 comes first (it tells the total); the rest are fetched concurrently, in any order.
    assert pages[0] == "1" and sorted(pages) == ["1", "2", "3"]
    states = Handler.queries[0]["state__in"]
    assert states.split(",")[0] == "discovered" and "retired" not in states
    n1 = inventory.get_host("n1").get_vars()
    assert n1["pureboot_id"] == 1 and n1["ansible_host"] == "10.0.0.1" and "pureboot_url" not in n1
    assert "ansible_host" not in inventory.get_host("n4").get_vars()
    members = dict((name, sorted(h.name for h in group.get_hosts())) for name, group in inventory.groups.items())
    assert members["state_active"] == ["52-54-00-00-00-05", "n1", "n3", "n7"]
    assert members["tag_even"] == ["n2", "n4", "n6"] and members["workflow_wf_a"] == ["n1"]


def test_states_filter_and_prefixes(server, tmp_path):
    Handler.queries[:] = []
    inventory = parse(tmp_path, server, states=["active"], group_by=["site"], group_prefixes={"site": "loc_"},
                      hostvar_prefix="pb_", hostvars=["mac"])
    assert Handler.queries[0]["state__in"] == "active"
    assert "loc_dc1" in inventory.groups and "state_active" not in inventory.groups
    assert sorted(k for k in inventory.get_host("n1").get_vars() if k.startswith("pb_")) == ["pb_id", "pb_mac"]
