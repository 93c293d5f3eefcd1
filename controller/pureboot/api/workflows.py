"""/api/v1/workflows: versioned workflow definitions (PRD 8.1, 9.3). JSON or YAML bodies."""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import Schema, fields
from marshmallow.validate import OneOf
from sqlalchemy import select

from .. import task_playbook, workflow_playbook
from ..db import get_session
from ..errors import Forbidden, Invalid, NotFound
from ..jobs import policy
from ..models import Workflow, WorkflowVersion
from ..rbac import current_principal
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


class PlaybookQuery(Schema):
    run = fields.String(validate=OneOf(["deprovision"]),
                        metadata={"description": "deprovision: the steps a deprovisioning run executes"})


def _check_playbook(data: dict) -> None:
    """A referenced playbook passes the job policy; playbook text is admin-only and must parse."""
    if data.get("playbook"):
        policy.check_playbook(current_app.config["PUREBOOT"], data["playbook"])
    if data.get("playbook_text"):
        principal = current_principal()
        if principal is None or principal.role != "admin":
            raise Forbidden("only admins may store playbook text (its steps can run on the controller); "
                            "reference a collection playbook instead",
                            errors={"playbook_text": ["admins only"]})
        try:
            workflow_playbook.parse(data["playbook_text"])
        except workflow_playbook.PlaybookError as exc:
            raise Invalid("invalid playbook", errors={"playbook_text": [str(exc)]}) from None


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
        _check_playbook(data)
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
        _check_playbook(data)
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


def _version_row(workflow_id: int, version: int) -> WorkflowVersion:
    row = get_session().scalar(select(WorkflowVersion).where(
        WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.version == version))
    if row is None:
        raise NotFound(f"workflow {workflow_id} has no version {version}")
    return row


@blp.route("/<int:workflow_id>/versions/<int:version>")
class WorkflowVersionItem(MethodView):
    @blp.response(200, WorkflowVersionOutput)
    def get(self, workflow_id, version):
        """One version of a workflow"""
        return _version_row(workflow_id, version)


@blp.route("/<int:workflow_id>/versions/<int:version>/playbook")
class WorkflowVersionPlaybook(MethodView):
    @blp.arguments(PlaybookQuery, location="query")
    @blp.response(200, description="the playbook, YAML text", content_type="application/yaml")
    @blp.alt_response(404, description="no such version, or its referenced playbook cannot be read")
    @blp.alt_response(422, description="an installer workflow (pxe_boot): no agent run to show")
    def get(self, args, workflow_id, version):
        """The playbook a node's run of this version executes (YAML); a task list is shown
        translated (``?run=deprovision``: the wipe steps a deprovisioning run executes)"""
        row = _version_row(workflow_id, version)
        playbook = row.playbook or {}
        if "ref" in playbook and not args.get("run"):
            try:
                text = workflow_playbook.reference_playbook(playbook["ref"])
            except (workflow_playbook.PlaybookError, OSError) as exc:
                raise NotFound(f"the playbook {playbook['ref']} of workflow {workflow_id} version {version} "
                               f"cannot be read: {exc}") from None
            return Response(text, mimetype="application/yaml")
        try:
            text = task_playbook.version_playbook(row, args.get("run"))
        except task_playbook.TranslationError as exc:
            raise Invalid(f"workflow {workflow_id} version {version} has no agent run: {exc}",
                          errors={"tasks": [str(exc)]}) from None
        return Response(text, mimetype="application/yaml")
