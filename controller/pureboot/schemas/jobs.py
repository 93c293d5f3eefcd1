"""Job template, job and job event schemas in AWX's shapes."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..jobs.service import redact
from ..models.job import JOB_STATUSES
from .common import StrictBoolean, short_text

NAME = ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$",
                          error="letters, digits, space, '.', '_' and '-' (max 128)")


class JobTemplateInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=NAME)
    description = short_text(4096, allow_none=True)
    project = ma.fields.Integer(attribute="project_id", allow_none=True, validate=ma.validate.Range(min=1),
                                metadata={"description": "id of a project: playbook is then relative to its root"})
    playbook = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024), metadata={
        "description": "a collection playbook FQCN (pureboot.pureboot.<name>), an absolute path inside "
                       "playbook_dirs, or with project a path relative to the project's root"})
    inventory = ma.fields.Dict(required=True, metadata={
        "description": '{"source": "registry", "filter": {"state": ..., "site": ..., "tag": ..., "ids": [...]}} '
                       'or {"hosts": ["10.0.0.5", ...]} or {"hosts": {"name": {hostvars}}}'})
    extra_vars = ma.fields.Dict(keys=ma.fields.String())
    limit = short_text(1024)
    forks = ma.fields.Integer(validate=ma.validate.Range(min=1, max=200))
    timeout = ma.fields.Integer(validate=ma.validate.Range(min=0, max=86400))
    verbosity = ma.fields.Integer(validate=ma.validate.Range(min=0, max=5))
    credentials = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1)),
                                 validate=ma.validate.Length(max=16), metadata={
        "description": "ids of stored credentials: an ssh_key drives the run's SSH login; the others "
                       "reach the playbook as pureboot_credentials.<name>"})
    ask_extra_vars_on_launch = StrictBoolean()
    ask_limit_on_launch = StrictBoolean()
    ask_inventory_on_launch = StrictBoolean()
    ask_forks_on_launch = StrictBoolean()
    ask_timeout_on_launch = StrictBoolean()
    ask_verbosity_on_launch = StrictBoolean()
    allow_connection_vars = StrictBoolean(metadata={
        "description": "admins only: launch-time extra_vars may set ansible_* variables (default false)"})


class JobTemplatePatch(JobTemplateInput):
    name = ma.fields.String(validate=NAME)
    playbook = ma.fields.String(validate=ma.validate.Length(min=1, max=1024))
    inventory = ma.fields.Dict()


class JobTemplateOutput(ma.Schema):
    id = ma.fields.Integer()
    type = ma.fields.Constant("job_template")
    url = ma.fields.Function(lambda t: url_for("job_templates.JobTemplateItem", template_id=t.id))
    related = ma.fields.Function(lambda t: {
        "launch": url_for("job_templates.JobTemplateLaunch", template_id=t.id),
        "jobs": url_for("jobs.JobList", template=t.id),
        **({"project": url_for("projects.ProjectItem", project_id=t.project_id)} if t.project_id else {})})
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    project = ma.fields.Integer(attribute="project_id", allow_none=True)
    playbook = ma.fields.String()
    inventory = ma.fields.Dict()
    extra_vars = ma.fields.Function(lambda t: redact(t.extra_vars or {}))
    limit = ma.fields.String()
    forks = ma.fields.Integer()
    timeout = ma.fields.Integer()
    verbosity = ma.fields.Integer()
    credentials = ma.fields.List(ma.fields.Integer())
    ask_extra_vars_on_launch = StrictBoolean()
    ask_limit_on_launch = StrictBoolean()
    ask_inventory_on_launch = StrictBoolean()
    ask_forks_on_launch = StrictBoolean()
    ask_timeout_on_launch = StrictBoolean()
    ask_verbosity_on_launch = StrictBoolean()
    allow_connection_vars = StrictBoolean()
    created = ma.fields.DateTime(attribute="created_at")
    modified = ma.fields.DateTime(attribute="updated_at")


class LaunchInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    extra_vars = ma.fields.Dict(keys=ma.fields.String())
    limit = short_text(1024)
    inventory = ma.fields.Dict()
    forks = ma.fields.Integer(validate=ma.validate.Range(min=1, max=200))
    timeout = ma.fields.Integer(validate=ma.validate.Range(min=0, max=86400))
    verbosity = ma.fields.Integer(validate=ma.validate.Range(min=0, max=5))


class RelaunchInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    hosts = ma.fields.String(load_default="all", validate=ma.validate.OneOf(["all", "failed"]))


class JobOutput(ma.Schema):
    id = ma.fields.Integer()
    type = ma.fields.Constant("job")
    url = ma.fields.Function(lambda j: url_for("jobs.JobItem", job_id=j.id))
    related = ma.fields.Function(lambda j: {
        "events": url_for("jobs.JobEvents", job_id=j.id), "stdout": url_for("jobs.JobStdout", job_id=j.id),
        "cancel": url_for("jobs.JobCancel", job_id=j.id), "relaunch": url_for("jobs.JobRelaunch", job_id=j.id),
        **({"job_template": url_for("job_templates.JobTemplateItem", template_id=j.template_id)}
           if j.template_id else {}),
        **({"node": url_for("nodes.NodeItem", node_id=j.node_id)} if j.node_id else {}),
        **({"project": url_for("projects.ProjectItem", project_id=j.project_id)} if j.project_id else {})})
    name = ma.fields.String()
    job_template = ma.fields.Integer(attribute="template_id", allow_none=True)
    launch_type = ma.fields.String()
    launched_by = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(JOB_STATUSES)})
    failed = ma.fields.Function(lambda j: j.status in ("failed", "error"))
    project = ma.fields.Integer(attribute="project_id", allow_none=True)
    playbook = ma.fields.String()
    inventory = ma.fields.Dict()
    extra_vars = ma.fields.Function(lambda j: redact(j.extra_vars or {}))
    limit = ma.fields.String()
    forks = ma.fields.Integer()
    timeout = ma.fields.Integer()
    verbosity = ma.fields.Integer()
    executor = ma.fields.String()
    execution_node = ma.fields.String()
    created = ma.fields.DateTime(attribute="created_at")
    started = ma.fields.DateTime(allow_none=True)
    finished = ma.fields.DateTime(allow_none=True)
    elapsed = ma.fields.Float()
    job_explanation = ma.fields.String()
    event_processing_finished = StrictBoolean()
    event_count = ma.fields.Integer()
    stdout_bytes = ma.fields.Integer()
    stdout_lines = ma.fields.Integer()
    events_pruned = StrictBoolean()
    cancel_requested = StrictBoolean()
    node = ma.fields.Integer(attribute="node_id", allow_none=True)
    purpose = ma.fields.String()
    relaunch_of = ma.fields.Integer(allow_none=True)


class LaunchOutput(JobOutput):
    job = ma.fields.Function(lambda j: j.id, metadata={"description": "the new job's id (AWX)"})


class JobEventOutput(ma.Schema):
    id = ma.fields.Integer()
    type = ma.fields.Constant("job_event")
    job = ma.fields.Integer(attribute="job_id")
    counter = ma.fields.Integer()
    event = ma.fields.String()
    uuid = ma.fields.String()
    parent_uuid = ma.fields.String()
    host = ma.fields.String()
    play = ma.fields.String()
    task = ma.fields.String()
    role = ma.fields.String()
    failed = StrictBoolean()
    changed = StrictBoolean()
    stdout = ma.fields.String()
    start_line = ma.fields.Integer()
    end_line = ma.fields.Integer()
    event_data = ma.fields.Dict()
    created = ma.fields.DateTime()


class StdoutArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    format = ma.fields.String(load_default="txt", validate=ma.validate.OneOf(["txt", "json", "txt_download"]))
    start_line = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0))
    end_line = ma.fields.Integer(validate=ma.validate.Range(min=0))
