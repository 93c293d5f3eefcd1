"""The pureboot.pureboot.nodes inventory plugin through ansible-inventory."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def fleet(controller):
    """web01 active at dc1, pi01 discovered at edge1, old01 retired."""
    wf = controller.ok("POST", "workflows", {"name": "wf-inv", "tasks": [{"type": "reboot"}]})
    web = controller.ok("POST", "nodes", {"mac": "52:54:00:0e:00:01", "hostname": "web01", "site": "dc1",
                                          "tags": ["web", "prod"], "ip_address": "10.0.0.11",
                                          "hardware": {"vendor": "acme"}, "workflow_id": wf["id"]})
    for state in ("installing", "installed", "active"):
        controller.ok("PATCH", f"nodes/{web['id']}/state", {"state": state})
    pi = controller.ok("POST", "nodes", {"mac": "52:54:00:0e:00:02", "hostname": "pi01", "site": "edge1",
                                         "platform": "rpi", "arch": "arm64", "tags": ["sensor"]})
    old = controller.ok("POST", "nodes", {"mac": "52:54:00:0e:00:03", "hostname": "old01"})
    controller.ok("DELETE", f"nodes/{old['id']}")
    return {"web": web, "pi": pi, "old": old}


def config(ansible, name, **options):
    return ansible.write(name, {"plugin": "pureboot.pureboot.nodes", **options})


def plain(value):
    """ansible-inventory marks strings that came from the API unsafe (never templated)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def listing(ansible, path, *extra):
    proc = ansible.inventory(path, "--list", *extra)
    assert proc.returncode == 0, proc.stderr
    return plain(json.loads(proc.stdout))


def members(inventory, group):
    return sorted(inventory.get(group, {}).get("hosts", []))


def test_groups_hostvars_and_constructed(ansible, fleet):
    path = config(ansible, "all.pureboot.yml",
                  compose={"ansible_user": "'pi' if pureboot_platform == 'rpi' else 'admin'"},
                  groups={"in_service": "pureboot_state == 'active'"},
                  keyed_groups=[{"key": "pureboot_hardware.vendor | default('none')", "prefix": "vendor"}])
    inv = listing(ansible, path)
    hostvars = inv["_meta"]["hostvars"]
    assert sorted(hostvars) == ["pi01", "web01"]  # retired nodes are left out by default
    web = hostvars["web01"]
    assert web["ansible_host"] == "10.0.0.11" and web["pureboot_id"] == fleet["web"]["id"]
    assert web["pureboot_mac"] == "52:54:00:0e:00:01" and web["pureboot_state"] == "active"
    assert web["pureboot_workflow_name"] == "wf-inv" and web["ansible_user"] == "admin"
    assert "pureboot_url" not in web and "ansible_host" not in hostvars["pi01"]
    assert hostvars["pi01"]["ansible_user"] == "pi"
    assert members(inv, "state_active") == ["web01"] and members(inv, "state_discovered") == ["pi01"]
    assert members(inv, "site_dc1") == ["web01"] and members(inv, "site_edge1") == ["pi01"]
    assert members(inv, "tag_web") == ["web01"] and members(inv, "tag_prod") == ["web01"]
    assert members(inv, "workflow_wf_inv") == ["web01"]
    assert members(inv, "arch_arm64") == ["pi01"] and members(inv, "platform_rpi") == ["pi01"]
    assert members(inv, "in_service") == ["web01"]
    assert members(inv, "vendor_acme") == ["web01"] and members(inv, "vendor_none") == ["pi01"]

    graph = ansible.inventory(path, "--graph")
    assert graph.returncode == 0, graph.stderr
    assert "@state_active:" in graph.stdout and "|--web01" in graph.stdout


def test_filters_prefixes_and_names(ansible, fleet):
    active = listing(ansible, config(ansible, "active.pureboot.yml", states=["active"]))
    assert sorted(active["_meta"]["hostvars"]) == ["web01"]
    everything = listing(ansible, config(ansible, "retired.pureboot.yml", include_retired=True,
                                         group_by=["state"], group_prefixes={"state": "lc_"}))
    assert members(everything, "lc_retired") == ["old01"] and "site_dc1" not in everything
    by_site = listing(ansible, config(ansible, "edge.pureboot.yml", filters={"site": "edge1"},
                                      hostnames=["mac"], hostvar_prefix="pb_"))
    assert sorted(by_site["_meta"]["hostvars"]) == ["52-54-00-0e-00-02"]
    assert by_site["_meta"]["hostvars"]["52-54-00-0e-00-02"]["pb_hostname"] == "pi01"
    few = listing(ansible, config(ansible, "few.pureboot.yml", hostvars=["state", "site"]))
    assert set(few["_meta"]["hostvars"]["web01"]) == {"pureboot_id", "pureboot_state", "pureboot_site", "ansible_host"}


def test_strict_and_errors(ansible, fleet):
    lax = config(ansible, "lax.pureboot.yml", compose={"x": "pureboot_nope.missing"}, strict=False)
    assert "x" not in listing(ansible, lax)["_meta"]["hostvars"]["web01"]
    strict = config(ansible, "strict.pureboot.yml", compose={"x": "pureboot_nope.missing"}, strict=True)
    proc = ansible.inventory(strict, "--list", extra_env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert proc.returncode != 0 and "pureboot_nope" in proc.stderr
    bad_filter = config(ansible, "badfilter.pureboot.yml", filters={"colour": "red"})
    proc = ansible.inventory(bad_filter, "--list", extra_env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert proc.returncode != 0 and "HTTP 422" in proc.stderr and "colour" in proc.stderr
    down = config(ansible, "down.pureboot.yml", url="http://127.0.0.1:9")
    proc = ansible.inventory(down, "--list", extra_env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    assert proc.returncode != 0 and "cannot reach the PureBoot controller" in proc.stderr


def test_cache_is_honoured(ansible, controller, fleet, tmp_path):
    path = config(ansible, "cached.pureboot.yml", cache=True, cache_plugin="ansible.builtin.jsonfile",
                  cache_connection=str(tmp_path / "cache"), cache_timeout=3600, filters={"site": "cachesite"})
    controller.ok("POST", "nodes", {"mac": "52:54:00:0e:01:01", "hostname": "c1", "site": "cachesite"})
    assert sorted(listing(ansible, path)["_meta"]["hostvars"]) == ["c1"]
    controller.ok("POST", "nodes", {"mac": "52:54:00:0e:01:02", "hostname": "c2", "site": "cachesite"})
    assert sorted(listing(ansible, path)["_meta"]["hostvars"]) == ["c1"]  # from the cache
    assert sorted(listing(ansible, path, "--flush-cache")["_meta"]["hostvars"]) == ["c1", "c2"]
