"""POST /api/v1/nodes/{id}/phone-home: an installed image's first boot checks in."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView

from ..db import get_session
from ..services import phone_home as service
from .blueprint import Blueprint

blp = Blueprint("phone_home", __name__, url_prefix="/api/v1/nodes",
                description="Phone-home of installed images (per-node token)")


class PhoneHomeInput(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # images may send more facts than we keep

    ip = ma.fields.String(validate=ma.validate.Length(max=45),
                          metadata={"description": "the node's address; default: the peer address"})
    hostname = ma.fields.String(validate=ma.validate.Length(min=1, max=253))


class PhoneHomeOutput(ma.Schema):
    node_id = ma.fields.Integer()
    state = ma.fields.String()
    ip_address = ma.fields.String(allow_none=True)
    claimed_by = ma.fields.String(allow_none=True, metadata={
        "description": "the post-install hook that took the node over; null: activated now"})


def _bearer() -> str | None:
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@blp.route("/<int:node_id>/phone-home")
class PhoneHome(MethodView):
    @blp.arguments(PhoneHomeInput)
    @blp.response(200, PhoneHomeOutput)
    @blp.alt_response(401, description="missing or wrong phone-home token; nothing changed")
    @blp.alt_response(409, description="the node is still installing")
    def post(self, data, node_id):
        """Record that the installed system is up (Authorization: Bearer <phone-home token>)"""
        session = get_session()
        node = service.authenticate(session, current_app.config["SECRET_KEY"], node_id, _bearer())
        return service.phone_home(session, node, data, request.remote_addr)
