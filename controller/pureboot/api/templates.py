"""/api/v1/templates: template metadata, streamed upload with sha256, download with ranges.

Upload paths:
  * ``POST /templates`` with a JSON body: metadata only (external ``location``, or
    upload later with ``PUT /templates/{id}/content``);
  * ``POST /templates`` with ``multipart/form-data``: metadata fields plus ``file``;
  * ``POST /templates?name=..&kind=..`` with a raw body (``application/octet-stream``):
    streamed straight to disk, never held in memory.
A stored file is immutable: a new image is a new version.
"""

from __future__ import annotations

from flask import current_app, request, send_file
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import get_session
from ..errors import Conflict, Invalid, NotFound
from ..models import Node, Template
from ..rbac import current_principal
from ..schemas.templates import TemplateInput, TemplateOutput, TemplatePatch, TemplateUploadArgs
from ..services import node_scope
from ..services.template_store import TemplateStore, safe_filename
from . import etag
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("templates", __name__, url_prefix="/api/v1/templates",
                description="OS images and config templates (raw, qcow2, vhdx, wim, tar.gz, squashfs, ...)")

FILTERS = {
    "name": Filter(Template.name, lookups=("exact", "icontains")),
    "kind": Filter(Template.kind, lookups=("exact", "in")),
    "version": Filter(Template.version),
    "sha256": Filter(Template.sha256),
}
TemplateListArgs = list_args("TemplateListArgs", FILTERS, ("id", "name", "version", "created_at", "size"))
RAW_BODY = {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
MULTIPART = {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
    "file": {"type": "string", "format": "binary"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "version": {"type": "string"}, "sha256": {"type": "string"}, "description": {"type": "string"}}}}}}


def _store() -> TemplateStore:
    settings = current_app.config["PUREBOOT"]
    return TemplateStore(settings.templates_dir, settings.max_upload_bytes)


def _calling_node(session) -> Node | None:
    """The node whose install token made this request, if one did."""
    principal = current_principal()
    return session.get(Node, principal.node_id) if principal is not None and principal.node_id else None


def _get(session, template_id: int) -> Template:
    template = session.get(Template, template_id)
    if template is None:
        raise NotFound(f"template {template_id} not found")
    node = _calling_node(session)
    if node is not None:
        node_scope.check_template(node, template)
    return template


def _create(session, data: dict) -> Template:
    template = Template(**data)
    session.add(template)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"template {data['name']} version {data.get('version', '1')} already exists",
                       errors={"version": ["already exists for this name"]}) from None
    return template


def _receive(session, template: Template, stream, filename: str | None) -> Template:
    """Store the content of `template` from `stream`; the row commits only if the file landed."""
    if template.stored:
        raise Conflict(f"template {template.id} already has content; templates are immutable, "
                       "upload a new version instead")
    name = safe_filename(filename or template.filename, f"{template.name}-{template.version}.{template.kind}")
    stored = _store().receive(stream, template.id, name, template.sha256)
    template.filename, template.sha256, template.size, template.stored = name, stored.sha256, stored.size, True
    session.commit()
    return template


@blp.route("")
class TemplateList(MethodView):
    @blp.arguments(TemplateListArgs, location="query")
    @blp.response(200, page_schema(TemplateOutput, "TemplatePage"))
    def get(self, args):
        """List templates"""
        session = get_session()
        stmt = apply_order(apply_filters(select(Template), args, FILTERS), Template, args.get("order_by"))
        node = _calling_node(session)
        if node is not None:  # an install token lists only what its workflow names
            stmt = stmt.where(node_scope.template_filter(node))
        return paginate(session, stmt, args)

    @blp.response(201, TemplateOutput)
    @blp.doc(requestBody={"content": {**RAW_BODY["content"], **MULTIPART["content"],
                                      "application/json": {"schema": TemplateInput}}})
    @blp.alt_response(409, description="name and version exist")
    @blp.alt_response(422, description="invalid metadata or checksum mismatch")
    @etag.versioned
    def post(self):
        """Create a template: JSON metadata, multipart upload, or raw streamed body"""
        session = get_session()
        mimetype = request.mimetype or ""
        if mimetype == "multipart/form-data":
            data = TemplateInput().load({k: v for k, v in request.form.items()})
            upload = request.files.get("file")
            if upload is None:
                raise Invalid("multipart upload needs a 'file' part", errors={"file": ["missing"]})
            template = _create(session, data)
            return _receive(session, template, upload.stream, upload.filename)
        if mimetype == "application/json":
            data = TemplateInput().load(request.get_json(silent=False) or {})
            template = _create(session, data)
            session.commit()
            return template
        data = TemplateUploadArgs().load(request.args.to_dict())
        template = _create(session, data)
        return _receive(session, template, request.stream, data.get("filename"))


@blp.route("/<int:template_id>")
class TemplateItem(MethodView):
    @blp.response(200, TemplateOutput)
    @etag.versioned
    def get(self, template_id):
        """Template metadata"""
        return _get(get_session(), template_id)

    @blp.arguments(TemplatePatch)
    @blp.response(200, TemplateOutput)
    @etag.versioned
    def patch(self, data, template_id):
        """Change the description (content and checksum are immutable)"""
        session = get_session()
        template = _get(session, template_id)
        with etag.guarded(session, template):
            for key, value in data.items():
                setattr(template, key, value)
            session.commit()
        return template

    @blp.response(204)
    @etag.versioned
    def delete(self, template_id):
        """Delete a template and its stored file"""
        session = get_session()
        template = _get(session, template_id)
        with etag.guarded(session, template):
            session.delete(template)
            session.commit()
        _store().delete(template_id)


@blp.route("/<int:template_id>/content")
class TemplateContent(MethodView):
    @blp.response(200, description="the file; supports Range requests",
                  content_type="application/octet-stream")
    def get(self, template_id):
        """Download the stored file"""
        template = _get(get_session(), template_id)
        if not template.stored:
            raise NotFound(f"template {template_id} has no stored content"
                           + (f"; it lives at {template.location}" if template.location else ""))
        path = _store().path_for(template.id, template.filename)
        response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                             download_name=template.filename, conditional=True, etag=template.sha256)
        response.headers["X-Checksum-Sha256"] = template.sha256
        return response

    @blp.response(200, TemplateOutput)
    @blp.doc(requestBody=RAW_BODY)
    @etag.versioned
    def put(self, template_id):
        """Upload the content of a metadata-only template (raw body, streamed)"""
        session = get_session()
        return _receive(session, _get(session, template_id), request.stream, request.args.get("filename"))
