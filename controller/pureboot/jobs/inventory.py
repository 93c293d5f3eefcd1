"""Static inventories for jobs, generated from the node registry or a host list.

The result is an ansible-runner inventory mapping (written as JSON in the job's
private directory). Registry hosts get ``ansible_host`` = the node's IP and the
node's attributes as ``pureboot_*`` host variables. A node whose recorded address is
loopback, unspecified or multicast is never a target: such an address (a forged phone-home
body, a typo) would aim the job at the controller host itself or at nobody.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Invalid
from ..models import Node

REGISTRY_FILTERS = ("ids", "state", "site", "tag", "workflow", "hostname", "platform")


def validate_spec(spec: Any) -> dict[str, Any]:
    """Check an inventory spec; raises Invalid with a field-level message."""
    if not isinstance(spec, dict) or not spec:
        raise Invalid("invalid inventory", errors={"inventory": [
            'expected {"source": "registry", "filter": {...}} or {"hosts": [...]}']})
    if "hosts" in spec:
        hosts = spec["hosts"]
        if not isinstance(hosts, (list, dict)) or not hosts or not all(isinstance(h, str) and h for h in hosts):
            raise Invalid("invalid inventory", errors={"inventory": ["hosts: a non-empty list of names/addresses, "
                                                                     "or a mapping name -> host variables"]})
        if isinstance(hosts, dict) and not all(isinstance(v, dict) for v in hosts.values()):
            raise Invalid("invalid inventory", errors={"inventory": ["hosts: each host's variables must be a mapping"]})
        return spec
    if spec.get("source") != "registry":
        raise Invalid("invalid inventory", errors={"inventory": ['source must be "registry" (or give "hosts")']})
    unknown = sorted(set(spec.get("filter") or {}) - set(REGISTRY_FILTERS))
    if unknown or not isinstance(spec.get("filter", {}), dict):
        raise Invalid("invalid inventory", errors={"inventory": [
            f"unknown registry filter(s) {', '.join(unknown)}; known: {', '.join(REGISTRY_FILTERS)}"]})
    return spec


def host_name(node: Node) -> str:
    return node.hostname or f"node-{node.id}"


def node_vars(node: Node) -> dict[str, Any]:
    return {
        "ansible_host": node.ip_address,
        "pureboot_id": node.id, "pureboot_mac": node.mac, "pureboot_state": node.state,
        "pureboot_hostname": node.hostname, "pureboot_site": node.site, "pureboot_tags": list(node.tags or []),
        "pureboot_arch": node.arch, "pureboot_platform": node.platform, "pureboot_serial": node.serial,
    }


def targetable(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_multicast)


def _registry_nodes(session: Session, flt: dict[str, Any]) -> list[Node]:
    stmt = select(Node).where(Node.ip_address.is_not(None)).order_by(Node.id)
    if "ids" in flt:
        stmt = stmt.where(Node.id.in_(list(flt["ids"])))
    for key, column in (("state", Node.state), ("site", Node.site), ("workflow", Node.workflow_id),
                        ("hostname", Node.hostname), ("platform", Node.platform)):
        if key in flt:
            value = flt[key]
            stmt = stmt.where(column.in_(value) if isinstance(value, list) else column == value)
    nodes = [n for n in session.scalars(stmt).unique() if targetable(n.ip_address)]
    if "tag" in flt:
        nodes = [n for n in nodes if flt["tag"] in (n.tags or [])]
    return nodes


def build(session: Session, spec: dict[str, Any]) -> dict[str, Any]:
    """The inventory mapping for ansible-runner: {"all": {"hosts": {name: vars}}}."""
    hosts: dict[str, dict[str, Any]] = {}
    if "hosts" in spec:
        raw = spec["hosts"]
        hosts = {h: dict(v) for h, v in raw.items()} if isinstance(raw, dict) else {h: {} for h in raw}
    else:
        for node in _registry_nodes(session, spec.get("filter") or {}):
            hosts[host_name(node)] = node_vars(node)
    return {"all": {"hosts": hosts, "vars": dict(spec.get("vars") or {})}}
