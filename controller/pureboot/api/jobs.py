"""/api/v1/jobs: runs of playbooks, their events and stdout (AWX shapes)."""

from __future__ import annotations

import json

from flask import Response, current_app, stream_with_context
from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import func, select

from .. import rbac
from ..db import get_db, get_session
from ..errors import NotFound, PureBootError
from ..jobs import service
from ..jobs.system import get_jobs
from ..models import Job, JobEvent
from ..models.job import JOB_STATUSES
from ..schemas.jobs import JobEventOutput, JobOutput, RelaunchInput, StdoutArgs
from ..services import audit
from .actor import current_actor
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Jobs: playbook runs")

FILTERS = {
    "status": Filter(Job.status, fields.String(validate=validate.OneOf(JOB_STATUSES)), lookups=("exact", "in")),
    "template": Filter(Job.template_id, fields.Integer()),
    "job_template": Filter(Job.template_id, fields.Integer()),
    "launched_by": Filter(Job.launched_by, lookups=("exact", "icontains")),
    "node": Filter(Job.node_id, fields.Integer()),
    "purpose": Filter(Job.purpose),
}
ListArgs = list_args("JobListArgs", FILTERS, ("id", "created_at", "started", "finished", "status"))
EVENT_FILTERS = {
    "host": Filter(JobEvent.host, lookups=("exact", "icontains")),
    "event": Filter(JobEvent.event, lookups=("exact", "in")),
    "failed": Filter(JobEvent.failed, fields.Boolean()),
    "changed": Filter(JobEvent.changed, fields.Boolean()),
    "task": Filter(JobEvent.task, lookups=("exact", "icontains")),
    "counter": Filter(JobEvent.counter, fields.Integer(), lookups=("exact", "gt", "lt")),
}
EventArgs = list_args("JobEventListArgs", EVENT_FILTERS, ("counter",))


def _visible(stmt):
    """RBAC: a plain user sees only the jobs it launched (rbac.own_only)."""
    owner = rbac.own_only("jobs")
    return stmt if owner is None else stmt.where(Job.launched_by == owner)


def _get_visible(session, job_id: int) -> Job:
    job = service.get_job(session, job_id)
    owner = rbac.own_only("jobs")
    if owner is not None and job.launched_by != owner:
        raise NotFound(f"job {job_id} not found")
    return job


class StdoutTooLarge(PureBootError):
    status, title = 413, "Content Too Large"


@blp.route("")
class JobList(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema(JobOutput, "JobPage"))
    def get(self, args):
        """List jobs, newest first (filters: status, template, launched_by, node)"""
        stmt = apply_order(apply_filters(_visible(select(Job)), args, FILTERS), Job, args.get("order_by") or ["-id"])
        return paginate(get_session(), stmt, args)


@blp.route("/<int:job_id>")
class JobItem(MethodView):
    @blp.response(200, JobOutput)
    def get(self, job_id):
        """One job"""
        return _get_visible(get_session(), job_id)


@blp.route("/<int:job_id>/cancel")
class JobCancel(MethodView):
    @blp.response(202, JobOutput)
    @blp.alt_response(409, description="the job already finished")
    def post(self, job_id):
        """Cancel a job: a running playbook's whole process group is killed"""
        session = get_session()
        job = service.get_job(session, job_id)
        service.request_cancel(session, job)
        if job.status == "canceled":
            service.publish_status(session, job)
        session.commit()
        get_jobs().cancel(job_id)
        return job


@blp.route("/<int:job_id>/relaunch")
class JobRelaunch(MethodView):
    @blp.arguments(RelaunchInput)
    @blp.response(201, JobOutput)
    def post(self, data, job_id):
        """Run a finished job again, on all hosts or only on those that failed"""
        session = get_session()
        job = service.relaunch(session, current_app.config["PUREBOOT"], service.get_job(session, job_id),
                               data["hosts"], current_actor())
        audit.record("job.launch", target=("job", job.id), session=session,
                     details={"relaunch_of": job_id, "playbook": job.playbook})
        session.commit()
        get_jobs().submit(job.id)
        session.refresh(job)
        return job


@blp.route("/<int:job_id>/events")
class JobEvents(MethodView):
    @blp.arguments(EventArgs, location="query")
    @blp.response(200, page_schema(JobEventOutput, "JobEventPage"))
    def get(self, args, job_id):
        """The job's events in counter order (filters: host, event, failed, changed, task)"""
        session = get_session()
        _get_visible(session, job_id)
        stmt = apply_filters(select(JobEvent).where(JobEvent.job_id == job_id), args, EVENT_FILTERS)
        order = args.get("order_by") or ["counter"]
        stmt = stmt.order_by(*[JobEvent.counter.desc() if o.startswith("-") else JobEvent.counter for o in order])
        return paginate(session, stmt, args)


def _stdout_lines(job_id: int, start: int, end: int | None):
    """Stdout lines [start, end) rebuilt from the events, streamed from the database."""
    db = get_db()
    with db.sessions() as session:
        stmt = (select(JobEvent.stdout, JobEvent.start_line).where(JobEvent.job_id == job_id, JobEvent.stdout != "",
                                                                    JobEvent.end_line > start)
                .order_by(JobEvent.counter).execution_options(yield_per=500))
        if end is not None:
            stmt = stmt.where(JobEvent.start_line < end)
        for text, first in session.execute(stmt):
            for offset, line in enumerate(text.split("\n")):
                number = first + offset
                if number >= start and (end is None or number < end):
                    yield number, line


@blp.route("/<int:job_id>/stdout")
class JobStdout(MethodView):
    @blp.arguments(StdoutArgs, location="query")
    @blp.response(200)
    @blp.alt_response(413, description="too large to show: use ?format=txt_download")
    def get(self, args, job_id):
        """Standard output: txt, json ({range, content}) or txt_download (streamed, any size)"""
        job = _get_visible(get_session(), job_id)
        start, end, fmt = args["start_line"], args.get("end_line"), args["format"]
        if fmt == "txt_download":
            body = (line + "\n" for _n, line in _stdout_lines(job_id, start, end))
            return Response(stream_with_context(body), mimetype="text/plain", headers={
                "Content-Disposition": f'attachment; filename="job_{job_id}.txt"'})
        cap = current_app.config["PUREBOOT"].job_stdout_max_bytes
        if _range_bytes(job, start, end) > cap:
            raise StdoutTooLarge(
                f"standard output too large to display ({job.stdout_bytes} bytes, more than {cap}); "
                f"use ?format=txt_download or a smaller start_line/end_line range",
                stdout_bytes=job.stdout_bytes, max_bytes=cap, download="?format=txt_download") from None
        lines = list(_stdout_lines(job_id, start, end))
        content = "\n".join(line for _n, line in lines)
        if fmt == "txt":
            return Response(content, mimetype="text/plain")
        last = lines[-1][0] + 1 if lines else start
        return Response(json.dumps({"range": {"start": start, "end": last, "absolute_end": job.stdout_lines},
                                    "content": content, "event_processing_finished": job.event_processing_finished}),
                        mimetype="application/json")


def _range_bytes(job: Job, start: int, end: int | None) -> int:
    if start == 0 and end is None:
        return job.stdout_bytes
    stmt = select(func.coalesce(func.sum(func.length(JobEvent.stdout)), 0)).where(
        JobEvent.job_id == job.id, JobEvent.end_line > start)
    if end is not None:
        stmt = stmt.where(JobEvent.start_line < end)
    return int(get_session().scalar(stmt))
