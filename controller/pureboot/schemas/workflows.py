"""Workflow schemas in the PRD's shape: name, description, tasks (PRD 9.3)."""

from __future__ import annotations

import marshmallow as ma
from flask import url_for

from ..task_types import validate_task
from .common import StrictBoolean, short_text

NAME = ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
                          error="letters, digits, '.', '_' and '-' (max 128), starting with a letter or digit")


class TaskList(ma.fields.List):
    """Tasks are flat mappings; each is checked against its type's parameters."""

    def __init__(self, **kwargs):
        super().__init__(ma.fields.Dict(keys=ma.fields.String()), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        tasks = super()._deserialize(value, attr, data, **kwargs)
        errors = {i: e for i, task in enumerate(tasks) if (e := validate_task(task))}
        if errors:
            raise ma.ValidationError(errors)
        return tasks


class WorkflowInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=NAME)
    description = short_text(4096, allow_none=True)
    active = StrictBoolean()
    tasks = TaskList(validate=ma.validate.Length(max=100),
                     metadata={"description": "PRD 9.3 task list (give tasks, playbook or playbook_text)"})
    playbook = ma.fields.String(validate=ma.validate.Length(min=1, max=1024), metadata={
        "description": "the node's run as a playbook: a collection playbook FQCN "
                       "(e.g. pureboot.pureboot.deploy_image) or a file in a registered playbook directory"})
    playbook_text = ma.fields.String(validate=ma.validate.Length(min=1, max=256 * 1024), metadata={
        "description": "the node's run as playbook YAML (admins only: it may run steps on the controller)"})
    playbooks = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(
        ["pre_install", "post_install", "deprovision", "migrate"])), values=ma.fields.String(),
        metadata={"description": "playbook per phase, run through the job system"})
    variables = ma.fields.Dict(keys=ma.fields.String())


    @ma.validates_schema
    def _one_definition(self, data, **_kwargs):
        playbooks = [k for k in ("playbook", "playbook_text") if data.get(k)]
        if len(playbooks) > 1 or (playbooks and data.get("tasks")):
            given = (["tasks"] if data.get("tasks") else []) + playbooks
            raise ma.ValidationError(f"give one of tasks, playbook, playbook_text (got {', '.join(given)})",
                                     field_name=playbooks[-1])
        if not self._patch and "tasks" not in data and not playbooks:
            raise ma.ValidationError("a workflow needs tasks, playbook or playbook_text", field_name="tasks")

    _patch = False


class WorkflowPatch(WorkflowInput):
    name = ma.fields.String(validate=NAME)
    _patch = True


def task_dump(task) -> dict:
    out = {"type": task.type, **task.params}
    if task.name:
        out["name"] = task.name
    return out


class WorkflowVersionOutput(ma.Schema):
    version = ma.fields.Integer()
    description = ma.fields.String(allow_none=True)
    tasks = ma.fields.Function(lambda v: [task_dump(t) for t in v.tasks])
    playbook = ma.fields.Function(lambda v: (v.playbook or {}).get("ref"))
    playbook_text = ma.fields.Function(lambda v: (v.playbook or {}).get("text"))
    playbooks = ma.fields.Dict()
    variables = ma.fields.Dict()
    in_use = StrictBoolean(metadata={"description": "a node used it: frozen forever"})
    created_at = ma.fields.DateTime()


class WorkflowOutput(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.Function(lambda w: url_for("workflows.WorkflowItem", workflow_id=w.id))
    related = ma.fields.Function(lambda w: {
        "versions": url_for("workflows.WorkflowVersions", workflow_id=w.id),
        "nodes": url_for("nodes.NodeList", workflow=w.id)})
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    active = StrictBoolean()
    version = ma.fields.Integer(attribute="latest_version")
    tasks = ma.fields.Function(lambda w: [task_dump(t) for t in w.current.tasks])
    playbook = ma.fields.Function(lambda w: (w.current.playbook or {}).get("ref"))
    playbook_text = ma.fields.Function(lambda w: (w.current.playbook or {}).get("text"))
    playbooks = ma.fields.Function(lambda w: w.current.playbooks)
    variables = ma.fields.Function(lambda w: w.current.variables)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
