"""/api/v1/job_templates: AWX-style job templates and their launch endpoint."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import get_session
from ..errors import Conflict, Forbidden, Invalid
from ..jobs import credentials as job_credentials
from ..jobs import inventory as inventory_mod
from ..jobs import policy
from ..jobs import service
from ..jobs.system import get_jobs
from ..models import JobTemplate, Project
from ..schemas.jobs import JobTemplateInput, JobTemplateOutput, JobTemplatePatch, LaunchInput, LaunchOutput
from ..rbac import current_principal
from ..services import audit
from .actor import current_actor
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("job_templates", __name__, url_prefix="/api/v1/job_templates",
                description="Job templates: a playbook, an inventory and launch-time prompts")

FILTERS = {"name": Filter(JobTemplate.name, lookups=("exact", "icontains")),
           "playbook": Filter(JobTemplate.playbook, lookups=("exact", "icontains")),
           "project": Filter(JobTemplate.project_id, ma.fields.Integer())}
ListArgs = list_args("JobTemplateListArgs", FILTERS, ("id", "name", "created_at"))


def _is_admin() -> bool:
    principal = current_principal()
    return principal is not None and principal.role == "admin"


def _check_policy(session, fields: dict, template: JobTemplate | None = None) -> None:
    """Where the playbook comes from and whom it targets (jobs/policy.py); admins are trusted.

    The playbook is checked with the project it is relative to: a change of either re-checks both.
    """
    fields = dict(fields)
    project_id = fields.pop("project_id", template.project_id if template else None)
    if template is not None and project_id != template.project_id:
        fields.setdefault("playbook", template.playbook)
    if template is not None and template.allow_connection_vars and not _is_admin() and (
            fields.get("playbook", template.playbook) != template.playbook or project_id != template.project_id):
        raise Forbidden("an admin allowed connection variables for this template's playbook; "
                        "only an admin may change its playbook or project",
                        errors={"playbook": ["only admins may change it on this template"]})
    policy.check_job(current_app.config["PUREBOOT"], fields, _is_admin(), project=_project(session, project_id))


def _project(session, project_id: int | None) -> Project | None:
    if project_id is None:
        return None
    project = session.get(Project, project_id)
    if project is None:
        raise Invalid(f"project {project_id} not found", errors={"project": ["no such project"]})
    return project


def _save(session, template: JobTemplate) -> JobTemplate:
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a job template named {template.name!r} already exists",
                       errors={"name": ["already exists"]}) from None
    session.commit()
    return template


@blp.route("")
class JobTemplateList(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema(JobTemplateOutput, "JobTemplatePage"))
    def get(self, args):
        """List job templates"""
        stmt = apply_order(apply_filters(select(JobTemplate), args, FILTERS), JobTemplate, args.get("order_by"))
        return paginate(get_session(), stmt, args)

    @blp.arguments(JobTemplateInput)
    @blp.response(201, JobTemplateOutput)
    @blp.alt_response(409, description="name taken")
    def post(self, data):
        """Create a job template"""
        inventory_mod.validate_spec(data["inventory"])
        session = get_session()
        _check_policy(session, data)
        job_credentials.validate(session, data.get("credentials", []))
        template = JobTemplate(**data)
        session.add(template)
        return _save(session, template)


@blp.route("/<int:template_id>")
class JobTemplateItem(MethodView):
    @blp.response(200, JobTemplateOutput)
    def get(self, template_id):
        """One job template"""
        return service.get_template(get_session(), template_id)

    @blp.arguments(JobTemplatePatch)
    @blp.response(200, JobTemplateOutput)
    def patch(self, data, template_id):
        """Change a job template (jobs already launched keep their copy)"""
        if "inventory" in data:
            inventory_mod.validate_spec(data["inventory"])
        session = get_session()
        template = service.get_template(session, template_id)
        _check_policy(session, data, template)
        if "credentials" in data:
            job_credentials.validate(session, data["credentials"])
        for key, value in data.items():
            setattr(template, key, value)
        return _save(session, template)

    @blp.response(204)
    def delete(self, template_id):
        """Delete a job template (its jobs stay, without the link)"""
        session = get_session()
        session.delete(service.get_template(session, template_id))
        session.commit()


@blp.route("/<int:template_id>/launch")
class JobTemplateLaunch(MethodView):
    @blp.arguments(LaunchInput)
    @blp.response(201, LaunchOutput)
    @blp.alt_response(400, description="a field the template does not prompt for (ignored_fields)")
    def post(self, data, template_id):
        """Launch a job; fields are accepted only when ask_<field>_on_launch is set"""
        session = get_session()
        template = service.get_template(session, template_id)
        # launch-time prompts are the launcher's, whoever wrote the template
        policy.check_job(current_app.config["PUREBOOT"], data, _is_admin(),
                         connection_vars=template.allow_connection_vars)
        job = service.launch_template(session, current_app.config["PUREBOOT"], template, data, current_actor())
        audit.record("job.launch", target=("job", job.id), session=session,
                     details={"template": template.id, "playbook": job.playbook})
        session.commit()
        get_jobs().submit(job.id)
        session.refresh(job)
        return job
