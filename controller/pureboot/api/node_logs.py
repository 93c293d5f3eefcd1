"""/api/v1/nodes/{id}/logs: log lines attached to a node (e.g. Ansible run results)."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from ..db import get_session
from ..models import Log
from ..schemas.logs import LEVELS, LogInput, LogOutput
from ..services import nodes as node_service
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("node_logs", __name__, url_prefix="/api/v1/nodes", description="Log lines of a node")

FILTERS = {
    "source": Filter(Log.source, lookups=("exact", "in")),
    "level": Filter(Log.level, fields.String(validate=validate.OneOf(LEVELS)), lookups=("exact", "in")),
    "created_at": Filter(Log.created_at, fields.DateTime(), lookups=("gt", "lt")),
}
LogListArgs = list_args("NodeLogListArgs", FILTERS, ("id", "created_at"))


@blp.route("/<int:node_id>/logs")
class NodeLogs(MethodView):
    @blp.arguments(LogListArgs, location="query")
    @blp.response(200, page_schema(LogOutput, "NodeLogPage"))
    def get(self, args, node_id):
        """Log lines of a node, oldest first (filters: source, level, created_at__gt)"""
        session = get_session()
        node_service.get_node(session, node_id)
        stmt = apply_filters(select(Log).where(Log.node_id == node_id), args, FILTERS)
        return paginate(session, apply_order(stmt, Log, args.get("order_by")), args)

    @blp.arguments(LogInput)
    @blp.response(201, LogOutput)
    def post(self, data, node_id):
        """Attach a log line to a node (source "ansible" for playbook run results)"""
        session = get_session()
        node_service.get_node(session, node_id)
        row = Log(node_id=node_id, **data)
        session.add(row)
        session.commit()
        return row
