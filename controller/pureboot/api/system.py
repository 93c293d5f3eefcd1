"""/api/v1/ping and the local Swagger UI assets."""

from __future__ import annotations

import flask
import marshmallow as ma
import swagger_ui_bundle
from flask.views import MethodView
from sqlalchemy import text

from .. import __version__
from ..db import get_session
from ..migrate import current_revision, head_revision
from ..models import utcnow
from .blueprint import Blueprint

blp = Blueprint("system", __name__, url_prefix="/api/v1", description="Service status")


class PingOutput(ma.Schema):
    version = ma.fields.String()
    time = ma.fields.DateTime()
    database = ma.fields.Dict(metadata={"description": "status, backend, revision"})


@blp.route("/ping")
class Ping(MethodView):
    @blp.response(200, PingOutput)
    def get(self):
        """Version and database status"""
        session = get_session()
        backend = session.get_bind().dialect.name
        try:
            session.execute(text("SELECT 1"))
            revision = current_revision(session.connection())
            database = {"status": "ok" if revision == head_revision() else "needs migration",
                        "backend": backend, "revision": revision}
        except Exception as exc:  # reported, not raised: ping must answer when the DB is down
            session.rollback()
            database = {"status": "unavailable", "backend": backend, "error": type(exc).__name__}
        return {"version": __version__, "time": utcnow(), "database": database}


assets = flask.Blueprint("swagger_assets", __name__)


@assets.route("/api/v1/docs/assets/<path:filename>")
def swagger_assets(filename):
    """Swagger UI files shipped with the package: no CDN, works air-gapped."""
    return flask.send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
