"""/api/v1/workflows: versioned workflow definitions (PRD 8.1, 9.3). JSON or YAML bodies."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import select

from ..db import get_session
from ..errors import NotFound
from ..models import Workflow, WorkflowVersion
from ..schemas.workflows import WorkflowInput, WorkflowOutput, WorkflowPatch, WorkflowVersionOutput
from ..services import workflows as service
from . import etag
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("workflows", __name__, url_prefix="/api/v1/workflows",
                description="Workflows: typed task lists, versioned and immutable once used")

FILTERS = {
    "name": Filter(Workflow.name, lookups=("exact", "icontains")),
    "active": Filter(Workflow.active, fields.Boolean()),
}
WorkflowListArgs = list_args("WorkflowListArgs", FILTERS, ("id", "name", "created_at", "updated_at"))
VersionListArgs = list_args("WorkflowVersionListArgs", {}, ("version",))


@blp.route("")
class WorkflowList(MethodView):
    @blp.arguments(WorkflowListArgs, location="query")
    @blp.response(200, page_schema(WorkflowOutput, "WorkflowPage"))
    def get(self, args):
        """List workflows"""
        stmt = apply_order(apply_filters(select(Workflow), args, FILTERS), Workflow, args.get("order_by"))
        return paginate(get_session(), stmt, args)

    @blp.arguments(WorkflowInput)
    @blp.response(201, WorkflowOutput)
    @blp.alt_response(409, description="name taken")
    @etag.versioned
    def post(self, data):
        """Create a workflow (version 1)"""
        session = get_session()
        workflow = service.create_workflow(session, data)
        session.commit()
        return workflow


@blp.route("/<int:workflow_id>")
class WorkflowItem(MethodView):
    @blp.response(200, WorkflowOutput)
    @etag.versioned
    def get(self, workflow_id):
        """Workflow with its latest version's definition"""
        return service.get_workflow(get_session(), workflow_id)

    @blp.arguments(WorkflowPatch)
    @blp.response(200, WorkflowOutput)
    @etag.versioned
    def patch(self, data, workflow_id):
        """Change a workflow; a definition change creates a new version"""
        session = get_session()
        workflow = service.get_workflow(session, workflow_id)
        with etag.guarded(session, workflow):
            service.update_workflow(session, workflow, data)
            session.commit()
        return workflow

    @blp.response(204)
    @blp.alt_response(409, description="still assigned to nodes")
    @etag.versioned
    def delete(self, workflow_id):
        """Delete a workflow no node uses"""
        session = get_session()
        workflow = service.get_workflow(session, workflow_id)
        with etag.guarded(session, workflow):
            service.delete_workflow(session, workflow)
            session.commit()


@blp.route("/<int:workflow_id>/versions")
class WorkflowVersions(MethodView):
    @blp.arguments(VersionListArgs, location="query")
    @blp.response(200, page_schema(WorkflowVersionOutput, "WorkflowVersionPage"))
    def get(self, args, workflow_id):
        """All versions of a workflow"""
        session = get_session()
        service.get_workflow(session, workflow_id)
        stmt = select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
        return paginate(session, apply_order(stmt, WorkflowVersion, args.get("order_by") or ["version"]),
                        args)


@blp.route("/<int:workflow_id>/versions/<int:version>")
class WorkflowVersionItem(MethodView):
    @blp.response(200, WorkflowVersionOutput)
    def get(self, workflow_id, version):
        """One version of a workflow"""
        row = get_session().scalar(select(WorkflowVersion).where(
            WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.version == version))
        if row is None:
            raise NotFound(f"workflow {workflow_id} has no version {version}")
        return row
