"""/api/v1/projects: directories of playbooks an admin registers (AWX projects).

Reading is for any signed-in user; creating, changing, syncing and deleting are admin
only (rbac.py), since a project's playbooks run on the controller host. Every write is
audited.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import get_session
from ..errors import Conflict
from ..models import PROJECT_STATUSES, SCM_TYPES, Project
from ..schemas.projects import ProjectInput, ProjectOutput, ProjectPatch
from ..services import audit
from ..services import projects as service
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("projects", __name__, url_prefix="/api/v1/projects",
                description="Projects: playbook directories an admin registers (local path or git)")

FILTERS = {"name": Filter(Project.name, lookups=("exact", "icontains")),
           "scm_type": Filter(Project.scm_type, fields.String(validate=validate.OneOf(SCM_TYPES))),
           "status": Filter(Project.status, fields.String(validate=validate.OneOf(PROJECT_STATUSES)))}
ListArgs = list_args("ProjectListArgs", FILTERS, ("id", "name", "created_at", "last_synced"))


def _settings():
    return current_app.config["PUREBOOT"]


def _save(session, project: Project, action: str, details: dict) -> Project:
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a project named {project.name!r} already exists",
                       errors={"name": ["already exists"]}) from None
    audit.record(action, target=("project", project.id), session=session, details=details)
    session.commit()
    return project


def _details(project: Project) -> dict:
    return {"name": project.name, "scm_type": project.scm_type,
            "source": project.local_path or project.scm_url, "branch": project.scm_branch}


@blp.route("")
class ProjectList(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema(ProjectOutput, "ProjectPage"))
    def get(self, args):
        """List projects"""
        stmt = apply_order(apply_filters(select(Project), args, FILTERS), Project, args.get("order_by"))
        return paginate(get_session(), stmt, args)

    @blp.arguments(ProjectInput)
    @blp.response(201, ProjectOutput)
    @blp.alt_response(409, description="name taken")
    def post(self, data):
        """Register a project (a git project is cloned by POST .../sync)"""
        session = get_session()
        project = Project(status="new", local_path="", scm_url="", scm_branch="", scm_revision="", last_error="")
        service.apply(_settings(), project, data)
        session.add(project)
        return _save(session, project, "project.create", _details(project))


@blp.route("/<int:project_id>")
class ProjectItem(MethodView):
    @blp.response(200, ProjectOutput)
    def get(self, project_id):
        """One project"""
        return service.get(get_session(), project_id)

    @blp.arguments(ProjectPatch)
    @blp.response(200, ProjectOutput)
    def patch(self, data, project_id):
        """Change a project; a changed git source must be synced again before jobs use it"""
        session = get_session()
        project = service.get(session, project_id)
        service.apply(_settings(), project, data)
        return _save(session, project, "project.update", {"fields": sorted(data), **_details(project)})

    @blp.response(204)
    @blp.alt_response(409, description="job templates use the project")
    def delete(self, project_id):
        """Delete a project (and a git project's checkout)"""
        session = get_session()
        project = service.get(session, project_id)
        details = _details(project)
        service.delete(session, _settings(), project)
        audit.record("project.delete", target=("project", project_id), session=session, details=details)
        session.commit()


@blp.route("/<int:project_id>/sync")
class ProjectSync(MethodView):
    @blp.response(200, ProjectOutput)
    @blp.alt_response(422, description="the sync failed: git's message in errors")
    def post(self, project_id):
        """Sync now: clone a git project afresh, or re-check a local project's directory"""
        session = get_session()
        project = service.get(session, project_id)
        try:
            service.sync(session, _settings(), project)
        except Exception:
            audit.record("project.sync", target=("project", project_id), outcome="failure",
                         details={"error": project.last_error})
            raise
        audit.record("project.sync", target=("project", project.id), session=session,
                     details={"revision": project.scm_revision})
        session.commit()
        return project
