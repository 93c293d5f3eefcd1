"""Project schemas in AWX's shape (scm_type local or git)."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..models import PROJECT_STATUSES, SCM_TYPES
from .common import short_text
from .jobs import NAME


class ProjectInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=NAME)
    description = short_text(4096, allow_none=True)
    scm_type = ma.fields.String(required=True, validate=ma.validate.OneOf(SCM_TYPES))
    local_path = short_text(1024, allow_none=True, metadata={
        "description": "local: absolute path of a directory on the controller (not in the data dir)"})
    scm_url = short_text(2048, allow_none=True, metadata={
        "description": "git: https://, ssh://, git://, file:// or user@host:path; no password in it"})
    scm_branch = short_text(255, allow_none=True, metadata={
        "description": "git: branch or tag to check out; empty: the remote's default branch"})


class ProjectPatch(ProjectInput):
    name = ma.fields.String(validate=NAME)
    scm_type = ma.fields.String(validate=ma.validate.OneOf(SCM_TYPES))


class ProjectOutput(ma.Schema):
    id = ma.fields.Integer()
    type = ma.fields.Constant("project")
    url = ma.fields.Function(lambda p: url_for("projects.ProjectItem", project_id=p.id))
    related = ma.fields.Function(lambda p: {
        "sync": url_for("projects.ProjectSync", project_id=p.id),
        "job_templates": url_for("job_templates.JobTemplateList", project=p.id)})
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    scm_type = ma.fields.String()
    local_path = ma.fields.String()
    scm_url = ma.fields.String()
    scm_branch = ma.fields.String()
    scm_revision = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(PROJECT_STATUSES)})
    last_synced = ma.fields.DateTime(allow_none=True)
    last_error = ma.fields.String()
    created = ma.fields.DateTime(attribute="created_at")
    modified = ma.fields.DateTime(attribute="updated_at")
