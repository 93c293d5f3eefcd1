"""/api/v1/next, /api/v1/report, /api/v1/boot/dhcp: the booting node's API (PRD 8.3).

These endpoints are open (a booting node has no user credentials); writes need the
node's install token. Check-ins run under a deadline (Rule D): if the database does
not let us decide within ``boot_decision_timeout`` seconds, the answer is "boot local".
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView
from sqlalchemy.exc import DBAPIError

from ..boot.decision import unavailable
from ..boot.spec import build_spec
from ..db import get_db, get_session
from ..errors import Invalid
from ..schemas.common import MacAddress
from ..services import tokens
from ..services.checkin import BootRequest, check_in, dhcp_answer
from ..services.reports import STATUSES, apply_report
from .blueprint import Blueprint
from .protection import from_boot_service

log = logging.getLogger("pureboot.boot")
blp = Blueprint("boot", __name__, url_prefix="/api/v1", description="Network boot check-in and node reports")
_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="pb-checkin")
REPORT_MAX_BYTES = 1024 * 1024


class NextArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # loaders append what they know; ignore the rest

    mac = MacAddress(metadata={"description": "required unless a node token is sent"})
    arch = ma.fields.String(validate=ma.validate.Length(max=16))
    firmware = ma.fields.String(validate=ma.validate.Length(max=16))
    platform = ma.fields.String(validate=ma.validate.Length(max=16), metadata={"description": "iPXE ${platform}"})
    serial = ma.fields.String(validate=ma.validate.Length(max=128))
    uuid = ma.fields.String(validate=ma.validate.Length(max=36))


class DhcpArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    mac = MacAddress(required=True)
    arch = ma.fields.String(validate=ma.validate.Length(max=16))


class ReportInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES))
    progress = ma.fields.Integer(validate=ma.validate.Range(0, 100))
    phase = ma.fields.String(validate=ma.validate.Length(max=64))
    logs = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=65536)),
                          validate=ma.validate.Length(max=2000))
    message = ma.fields.String(validate=ma.validate.Length(max=4096))
    node_id = ma.fields.Integer()
    hardware = ma.fields.Dict(keys=ma.fields.String())
    evidence = ma.fields.Dict(keys=ma.fields.String())
    address = ma.fields.String(validate=ma.validate.Length(max=64),
                               metadata={"description": "ready: the agent's IP address (SSH)"})
    host_key = ma.fields.String(validate=ma.validate.Length(max=16384),
                                metadata={"description": "ready: the agent's SSH host public key, pinned for the run"})


def boot_request(args: dict[str, Any]) -> BootRequest:
    firmware = args.get("firmware") or args.get("platform")
    return BootRequest(mac=args.get("mac"), arch=args.get("arch"), firmware=firmware,
                       serial=(args.get("serial") or None), uuid=(args.get("uuid") or None),
                       ip=request.remote_addr)


def next_spec(req: BootRequest, bearer: str | None = None, *, peek: bool = False) -> dict[str, Any]:
    """Check in and build the spec, or answer "boot local" when the DB is too slow or down."""
    app = current_app._get_current_object()
    settings, database = app.config["PUREBOOT"], get_db()

    def work() -> dict[str, Any]:
        with database.sessions() as session:
            result = check_in(session, req, discovery=settings.discovery, bearer=bearer, peek=peek,
                              rotation_grace=settings.token_rotation_grace)
            return build_spec(settings, result.node, result.decision, result.token)

    future = _pool.submit(work)
    try:
        return future.result(timeout=settings.boot_decision_timeout)
    except FutureTimeout:
        log.warning("check-in of %s took longer than %ss: answering boot local (Rule D)",
                    req.mac, settings.boot_decision_timeout)
    except DBAPIError as exc:
        log.error("check-in of %s: database unavailable (%s): answering boot local (Rule D)",
                  req.mac, type(exc).__name__)
    return build_spec(settings, None, unavailable(), None)


@blp.route("/next")
class Next(MethodView):
    @blp.arguments(NextArgs, location="query")
    @blp.response(200, description="the boot spec: PRD 8.3 fields plus action, reason, node_id, state, "
                  "tasks and, when a node token was just issued, token")
    @blp.alt_response(401, description="a node token was sent but is not valid")
    def get(self, args):
        """What this node should boot now (side effects per the decision table)"""
        bearer = tokens.bearer_token(request.headers.get("Authorization"))
        if bearer is None and not args.get("mac"):
            raise Invalid("mac is required", errors={"mac": ["required without a node token"]})
        return next_spec(boot_request(args), bearer)


@blp.route("/boot/dhcp")
class Dhcp(MethodView):
    @blp.arguments(DhcpArgs, location="query")
    @blp.response(200, description="{serve, state, known, reason, node_id}; from a boot service "
                  "address it also notes that the node is booting (install token rotation)")
    def get(self, args):
        """Rule E: should the DHCP responder answer this MAC?"""
        settings = current_app.config["PUREBOOT"]
        return dhcp_answer(get_session(), args["mac"], discovery=settings.discovery,
                           from_boot_service=from_boot_service())


@blp.route("/report")
class Report(MethodView):
    @blp.response(200, description="the node's state and progress after the report")
    @blp.alt_response(401, description="missing or invalid node token; nothing changed")
    @blp.alt_response(403, description="node_id does not match the token's node")
    @blp.alt_response(409, description="this status is not possible in the node's state, or the "
                      "discovered node's inventory was already stored")
    def post(self):
        """Report install/wipe progress, logs and results, or a discovered node's inventory
        (Authorization: Bearer <node token>)"""
        session = get_session()
        node = tokens.verify_node_token(session, tokens.bearer_token(request.headers.get("Authorization")),
                                        tokens.BOOT_STATES)
        if (request.content_length or 0) > REPORT_MAX_BYTES:
            raise Invalid(f"report larger than {REPORT_MAX_BYTES} bytes")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid("the report must be a JSON object")
        data = ReportInput().load(body)
        settings = current_app.config["PUREBOOT"]
        return apply_report(session, node, data, log_cap=settings.report_log_bytes, settings=settings)
