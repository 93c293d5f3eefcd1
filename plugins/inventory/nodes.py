# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: nodes
short_description: PureBoot node registry as inventory
description:
  - Reads the nodes of a PureBoot controller and makes each one a host, grouped by
    lifecycle state, workflow, site, architecture, platform and tags.
  - Every node attribute becomes a host variable with the O(hostvar_prefix) prefix
    (C(pureboot_id), C(pureboot_mac), C(pureboot_state), ...); C(ansible_host) is the
    node's IP address when it has one.
  - The configuration file name must end with C(pureboot.yml) or C(pureboot.yaml).
version_added: 0.1.0
author:
  - PureBoot contributors (@pureboot)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks this file as a configuration of this plugin.
    type: str
    required: true
    choices: [pureboot.pureboot.nodes]
  url:
    description: Base URL of the PureBoot controller.
    type: str
    required: true
    env:
      - name: PUREBOOT_URL
  token:
    description: "API token, sent as C(Authorization: Bearer <token>)."
    type: str
    env:
      - name: PUREBOOT_TOKEN
  username:
    description: User to log in as, exchanged for a token with O(password).
    type: str
    env:
      - name: PUREBOOT_USERNAME
  password:
    description: Password of O(username).
    type: str
    env:
      - name: PUREBOOT_PASSWORD
  validate_certs:
    description: Whether to verify the controller's TLS certificate.
    type: bool
    default: true
    env:
      - name: PUREBOOT_VALIDATE_CERTS
  ca_path:
    description: PEM CA bundle to verify the controller's certificate with (default the system store).
    type: path
    env:
      - name: PUREBOOT_CA_PATH
  timeout:
    description: Seconds to wait for each API request.
    type: int
    default: 30
  states:
    description:
      - Only nodes in these lifecycle states, for example V([active]) for the machines
        that are in service. Empty means every state except V(retired).
    type: list
    elements: str
    default: []
  include_retired:
    description: Also list retired nodes when O(states) is empty.
    type: bool
    default: false
  filters:
    description:
      - "More API filters, as in C(GET /api/v1/nodes), for example C({site: dc1}) or
        C({hostname__icontains: web})."
    type: dict
    default: {}
  hostnames:
    description:
      - Node attributes tried in order for the inventory host name; the first one set wins.
      - V(mac) gives names such as C(52-54-00-12-34-56).
    type: list
    elements: str
    default: [hostname, mac]
  group_by:
    description: Node attributes to make groups from.
    type: list
    elements: str
    choices: [state, workflow, site, arch, platform, tags]
    default: [state, workflow, site, arch, platform, tags]
  group_prefixes:
    description:
      - Prefix of the groups of each O(group_by) attribute. Missing keys use the defaults
        C(state_), C(workflow_), C(site_), C(arch_), C(platform_) and C(tag_).
    type: dict
    default: {}
  hostvars:
    description:
      - Node attributes to set as host variables (with O(hostvar_prefix)). Empty means all.
      - Fewer variables make very large inventories faster; C(id) is always set.
    type: list
    elements: str
    default: []
  hostvar_prefix:
    description: Prefix of the host variables holding node attributes.
    type: str
    default: pureboot_
  page_size:
    description: Nodes per API request (the controller allows at most 200).
    type: int
    default: 200
  workers:
    description: API requests in flight at once while reading the pages.
    type: int
    default: 4
"""

EXAMPLES = r"""
# inventory/pureboot.yml
plugin: pureboot.pureboot.nodes
url: https://pureboot.example.com:8080
states: [active, installed]
filters:
  site: dc1
group_prefixes:
  tags: ""
keyed_groups:
  - key: pureboot_hardware.vendor | default('unknown')
    prefix: vendor
compose:
  ansible_user: "'root' if pureboot_platform == 'rpi' else 'admin'"
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError, PureBootClient

DEFAULT_PREFIXES = {"state": "state_", "workflow": "workflow_", "site": "site_", "arch": "arch_",
                    "platform": "platform_", "tags": "tag_"}
#: node attribute per group_by key
GROUP_SOURCES = {"state": "state", "workflow": "workflow_name", "site": "site", "arch": "arch",
                 "platform": "platform", "tags": "tags"}
# Not useful as host variables: links into the API.
SKIPPED_FIELDS = ("url", "related")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "pureboot.pureboot.nodes"

    def __init__(self):
        super(InventoryModule, self).__init__()
        self._known_groups = set()

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(("pureboot.yml", "pureboot.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        nodes = None
        if use_cache and cache:
            try:
                nodes = self._cache[cache_key]
            except KeyError:
                pass
        if nodes is not None:
            self._populate(nodes)
            return
        nodes = self._fetch_and_populate()
        if use_cache:
            self._cache[cache_key] = nodes

    # -- reading ----------------------------------------------------------------------

    def _query(self):
        query = dict(self.get_option("filters") or {})
        states = self.get_option("states")
        if states:
            query["state__in"] = ",".join(states)
        elif not self.get_option("include_retired") and "state" not in query and "state__in" not in query:
            query["state__in"] = ",".join(s for s in ("discovered", "pending", "installing", "installed", "active",
                                                      "deprovisioning", "migrating", "failed"))
        query["page_size"] = min(200, max(1, self.get_option("page_size")))
        return query

    def _fetch_and_populate(self):
        """Add each page's hosts while the next pages are still on their way."""
        nodes, seen = [], set()
        try:
            client = PureBootClient(self.get_option("url"), self.get_option("token"), self.get_option("username"),
                                    self.get_option("password"), self.get_option("validate_certs"),
                                    self.get_option("timeout"), self.get_option("ca_path"))
            for page in client.iter_pages("nodes", self._query(), self.get_option("workers")):
                fresh = [node for node in page if node["id"] not in seen]  # pages can shift under writes
                seen.update(node["id"] for node in fresh)
                self._populate(fresh)
                nodes.extend(fresh)
        except PureBootAPIError as exc:
            raise AnsibleParserError("pureboot.pureboot.nodes: %s" % exc.message)
        return nodes

    # -- building ---------------------------------------------------------------------

    def _host_name(self, node):
        for field in self.get_option("hostnames"):
            value = node.get(field)
            if value:
                return value.replace(":", "-") if field == "mac" else str(value)
        return "pureboot-%s" % node["id"]

    def _group_names(self, node):
        prefixes = dict(DEFAULT_PREFIXES)
        prefixes.update(self.get_option("group_prefixes") or {})
        for key in self.get_option("group_by"):
            value = node.get(GROUP_SOURCES[key])
            for item in (value if isinstance(value, list) else [value]):
                if item not in (None, ""):
                    yield self._sanitize_group_name("%s%s" % (prefixes[key], item))

    def _populate(self, nodes):
        prefix = self.get_option("hostvar_prefix")
        strict = self.get_option("strict")
        wanted = set(self.get_option("hostvars") or ()) | set(["id"])
        known_groups = self._known_groups
        for node in nodes:
            host = self._host_name(node)
            self.inventory.add_host(host)
            hostvars = dict((prefix + key, value) for key, value in node.items()
                            if key not in SKIPPED_FIELDS and (len(wanted) == 1 or key in wanted))
            if node.get("ip_address"):
                hostvars["ansible_host"] = node["ip_address"]
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            for group in self._group_names(node):
                if group not in known_groups:
                    self.inventory.add_group(group)
                    known_groups.add(group)
                self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
