"""GET /api/v1/events: a Server-Sent Events stream of what happens (node state changes,
job status, ...), filterable by ?type= (prefix, comma-separated) and ?node=.

The stream reads the event log (pureboot.events), so it shows what every controller
process and Celery worker published. A client resumes where it left off with the standard
``Last-Event-ID`` header (browsers send it when they reconnect) or ``?after=<id>``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Iterator

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from sqlalchemy.exc import SQLAlchemyError
from webargs.fields import DelimitedList

from .. import events
from ..db import Database, get_db
from ..errors import Invalid
from .blueprint import Blueprint

log = logging.getLogger("pureboot.events")
blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Live events (Server-Sent Events)")
KEEPALIVE_SECONDS = 15.0
POLL_BOUNDS = (0.05, 5.0)  # event_poll_interval is clamped to this (seconds)
MAX_ID = 2**63 - 1


class EventArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    # bounded and ASCII: the whole request line must fit the server's limit (else a 414)
    type = DelimitedList(ma.fields.String(validate=[ma.validate.Length(min=1, max=64),
                                                    ma.validate.Regexp(r"^[A-Za-z0-9._-]+$")]),
                         validate=ma.validate.Length(max=16),
                         metadata={"description": "event types or prefixes, e.g. node,job.status"})
    node = ma.fields.Integer(validate=ma.validate.Range(min=0, max=MAX_ID),
                             metadata={"description": "only events about this node"})
    after = ma.fields.Integer(validate=ma.validate.Range(min=0, max=MAX_ID),
                              metadata={"description": "start after this event id (the Last-Event-ID "
                                                       "header, when sent, takes precedence)"})


def _format(event: dict) -> str:
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _start(db: Database, args: dict) -> int:
    """Where the stream starts: after Last-Event-ID, else ?after=, else only new events."""
    header = request.headers.get("Last-Event-ID", "").strip()
    if header:
        if not header.isdigit() or int(header) > MAX_ID:
            raise Invalid("Last-Event-ID must be an event id", errors={"Last-Event-ID": ["not an event id"]})
        return int(header)
    if "after" in args:
        return args["after"]
    with db.sessions() as session:
        return events.latest_id(session)


def _stream(db: Database, after: int, types: list[str], node: int | None, poll: float) -> Iterator[str]:
    """Poll the event log in short sessions; no request context, no connection held across waits.

    Waits end early when this process commits an event (events.wait), or on PostgreSQL
    when any process does (LISTEN/NOTIFY): then delivery is near-immediate; without a
    wake-up an event arrives within one poll interval.
    """
    yield ": connected\n\n"
    quiet_since = time.monotonic()
    while True:
        seen = events.generation()
        batch, more = [], False
        try:
            with db.sessions() as session:
                batch, after, more = events.read_after(session, after, types, node)
        except SQLAlchemyError:  # the database may be briefly away: keep the stream, retry
            log.exception("event stream: reading the event log failed")
        for event in batch:
            yield _format(event)
        now = time.monotonic()
        if batch:
            quiet_since = now
        elif now - quiet_since >= KEEPALIVE_SECONDS:
            quiet_since = now
            yield ": keep-alive\n\n"
        if not more:
            events.wait(seen, poll)


@blp.route("")
class EventStream(MethodView):
    @blp.arguments(EventArgs, location="query", unknown=ma.RAISE)
    @blp.response(200, description="text/event-stream")
    def get(self, args):
        """Stream events (text/event-stream), resumable with Last-Event-ID; keep-alive comments every 15 s"""
        db = get_db()
        events.listen(db.engine)
        low, high = POLL_BOUNDS
        poll = min(max(current_app.config["PUREBOOT"].event_poll_interval, low), high)
        stream = _stream(db, _start(db, args), list(args.get("type") or ()), args.get("node"), poll)
        return Response(stream, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
