"""/api/v1/settings: system-wide runtime settings; a change is a four-eye request (202)."""

from __future__ import annotations

import marshmallow as ma
from flask import jsonify
from flask.views import MethodView

from .. import rbac
from ..db import get_session
from ..schemas.approvals import ApprovalOutput, DryRunArgs, DryRunOutput
from ..schemas.common import short_text
from ..services import approvals as approval_service
from ..services import settings_store
from .approvals import accepted
from .blueprint import Blueprint

blp = Blueprint("settings", __name__, url_prefix="/api/v1/settings",
                description="System-wide settings (changes need a second admin's approval)")


class SettingsOutput(ma.Schema):
    values = ma.fields.Dict(metadata={"description": "effective value of every runtime setting"})
    overridden = ma.fields.List(ma.fields.String(), metadata={"description": "keys changed through the API"})


class SettingsChange(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    changes = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(settings_store.RUNTIME_KEYS)),
                             required=True, metadata={"description": "setting -> new value"})
    reason = short_text(2048, 1, required=True)


@blp.route("")
class Settings(MethodView):
    @blp.response(200, SettingsOutput)
    def get(self):
        """Effective runtime settings"""
        from flask import current_app
        applied = current_app.extensions["pureboot.settings_state"]["applied"]
        return {"values": settings_store.effective(), "overridden": sorted(applied)}

    @blp.arguments(SettingsChange)
    @blp.arguments(DryRunArgs, location="query", as_kwargs=True)
    @blp.response(202, ApprovalOutput)
    @blp.alt_response(200, schema=DryRunOutput, description="dry run: what would change, nothing created")
    def patch(self, data, dry_run=False):
        """Request a settings change (four-eye)"""
        session = get_session()
        payload = {"changes": data["changes"]}
        if dry_run:
            return jsonify(DryRunOutput().dump(approval_service.dry_run(session, "settings.update", "system", payload)))
        return accepted(approval_service.request_action(session, "settings.update", "system", payload,
                                                        data["reason"], rbac.current_principal()))
