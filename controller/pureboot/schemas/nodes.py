"""Node schemas: what clients send (create, patch, state change) and what they get."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..lifecycle import State
from .common import Hostname, IPAddress, MacAddress, Tags, short_text

ARCHES = ("x86_64", "i386", "arm64", "armhf")
FIRMWARES = ("bios", "uefi", "unknown")
PLATFORMS = ("baremetal", "laptop", "rpi", "vm", "edge", "other")


class NodeInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    mac = MacAddress(required=True)
    serial = short_text(128, allow_none=True)
    system_uuid = ma.fields.UUID(allow_none=True)
    hostname = Hostname(allow_none=True)
    arch = ma.fields.String(validate=ma.validate.OneOf(ARCHES))
    firmware = ma.fields.String(validate=ma.validate.OneOf(FIRMWARES))
    platform = ma.fields.String(validate=ma.validate.OneOf(PLATFORMS))
    site = short_text(64, allow_none=True)
    ip_address = IPAddress(allow_none=True)
    hardware = ma.fields.Dict(keys=ma.fields.String())
    tags = Tags
    description = short_text(4096, allow_none=True)
    workflow_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "assign a workflow; on create the node starts pending"})

    @ma.post_load
    def _uuid_as_text(self, data, **kwargs):
        if data.get("system_uuid") is not None:
            data["system_uuid"] = str(data["system_uuid"])
        return data


class NodePatch(NodeInput):
    mac = MacAddress()


class StateChange(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    state = ma.fields.String(required=True, validate=ma.validate.OneOf([s.value for s in State]))
    reason = short_text(1024)
    workflow_id = ma.fields.Integer(metadata={"description": "workflow to assign with this transition"})


class NodeStateInfo(ma.Schema):
    state = ma.fields.String()
    allowed = ma.fields.List(ma.fields.String(), metadata={"description": "states reachable from here"})


class NodeOutput(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.Method("_url")
    related = ma.fields.Method("_related")
    mac = ma.fields.String()
    serial = ma.fields.String(allow_none=True)
    system_uuid = ma.fields.String(allow_none=True)
    hostname = ma.fields.String(allow_none=True)
    arch = ma.fields.String()
    firmware = ma.fields.String()
    platform = ma.fields.String()
    state = ma.fields.String()
    state_reason = ma.fields.String(allow_none=True)
    workflow = ma.fields.Integer(attribute="workflow_id", allow_none=True)
    workflow_name = ma.fields.Function(lambda n: n.workflow.name if n.workflow else None)
    workflow_version = ma.fields.Function(lambda n: n.workflow_version.version if n.workflow_version else None)
    site = ma.fields.String(allow_none=True)
    ip_address = ma.fields.String(allow_none=True)
    hardware = ma.fields.Dict()
    tags = ma.fields.List(ma.fields.String())
    description = ma.fields.String(allow_none=True)
    install_progress = ma.fields.Integer(allow_none=True)
    install_phase = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    state_changed_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime(allow_none=True)

    def _url(self, node) -> str:
        return url_for("nodes.NodeItem", node_id=node.id)

    def _related(self, node) -> dict:
        related = {"events": url_for("nodes.NodeEvents", node_id=node.id),
                   "state": url_for("nodes.NodeState", node_id=node.id),
                   "jobs": url_for("jobs.JobList", node=node.id)}
        if node.workflow_id:
            related["workflow"] = url_for("workflows.WorkflowItem", workflow_id=node.workflow_id)
        return related


class NodeEventOutput(ma.Schema):
    id = ma.fields.Integer()
    node = ma.fields.Integer(attribute="node_id")
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String()
    action = ma.fields.String()
    actor = ma.fields.String()
    reason = ma.fields.String(allow_none=True)
    details = ma.fields.Dict()
    created_at = ma.fields.DateTime()
