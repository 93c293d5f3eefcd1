"""GET /api/v1/events: a Server-Sent Events stream of what happens (node state changes,
job status, ...), filterable by ?type= (prefix, comma-separated) and ?node=."""

from __future__ import annotations

import json

import marshmallow as ma
from flask import Response, stream_with_context
from flask.views import MethodView
from webargs.fields import DelimitedList

from .. import events
from ..services import nodes
from .blueprint import Blueprint

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Live events (Server-Sent Events)")
KEEPALIVE_SECONDS = 15.0


class EventArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    # bounded and ASCII: the whole request line must fit the server's limit (else a 414)
    type = DelimitedList(ma.fields.String(validate=[ma.validate.Length(min=1, max=64),
                                                    ma.validate.Regexp(r"^[A-Za-z0-9._-]+$")]),
                         validate=ma.validate.Length(max=16),
                         metadata={"description": "event types or prefixes, e.g. node,job.status"})
    node = ma.fields.Integer(metadata={"description": "only events about this node"})


def _format(event: dict) -> str:
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


@blp.route("")
class EventStream(MethodView):
    @blp.arguments(EventArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, description="text/event-stream")
    def get(self, args):
        """Stream events as they happen (text/event-stream; keep-alive comments every 15 s)"""
        subscription = events.subscribe(args.get("type"), args.get("node"))

        def stream():
            try:
                yield ": connected\n\n"
                while True:
                    event = subscription.get(KEEPALIVE_SECONDS)
                    yield _format(event) if event is not None else ": keep-alive\n\n"
            finally:
                subscription.close()
        return Response(stream_with_context(stream()), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _publish_transition(session, node, event) -> None:
    events.publish("node.state", {"node_id": node.id, "from": event.from_state, "to": event.to_state,
                                  "action": event.action, "actor": event.actor, "reason": event.reason})


nodes.AFTER_TRANSITION.append(_publish_transition)
