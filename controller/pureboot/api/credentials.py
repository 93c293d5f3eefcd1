"""/api/v1/credentials: SSH keys, domain join, BMC, hypervisor and webhook credentials.

Secrets are write-only. Creating a credential is immediate; replacing its secrets or
deleting it is a critical action: the response is 202 with the approval request.
"""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from .. import rbac
from ..db import get_session
from ..errors import Conflict
from ..models import CREDENTIAL_KINDS, Credential
from ..schemas.approvals import ApprovalOutput
from ..schemas.credentials import CredentialInput, CredentialOutput, CredentialPatch
from ..services import approvals as approval_service
from ..services import audit
from ..services import credentials as service
from .approvals import accepted
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("credentials", __name__, url_prefix="/api/v1/credentials",
                description="Encrypted credentials; secrets are write-only, changes need four-eye approval")

FILTERS = {"name": Filter(Credential.name, lookups=("exact", "icontains")),
           "kind": Filter(Credential.kind, fields.String(validate=validate.OneOf(list(CREDENTIAL_KINDS))),
                          lookups=("exact", "in"))}
CredentialListArgs = list_args("CredentialListArgs", FILTERS, ("id", "name", "kind", "created_at"))


def _unique(session, name: str, current_id: int | None = None) -> None:
    clash = session.scalars(select(Credential).where(Credential.name == name)).first()
    if clash is not None and clash.id != current_id:
        raise Conflict(f"a credential named {name!r} exists", errors={"name": ["already exists"]})


@blp.route("")
class CredentialList(MethodView):
    @blp.arguments(CredentialListArgs, location="query")
    @blp.response(200, page_schema(CredentialOutput, "CredentialPage"))
    def get(self, args):
        """List credentials (never their secrets)"""
        stmt = apply_order(apply_filters(select(Credential), args, FILTERS), Credential, args.get("order_by"))
        return paginate(get_session(), stmt, args)

    @blp.arguments(CredentialInput)
    @blp.response(201, CredentialOutput)
    @blp.alt_response(409, description="name taken")
    def post(self, data):
        """Store a credential (secrets encrypted at rest)"""
        session = get_session()
        _unique(session, data["name"])
        row = service.create(session, data)
        session.commit()
        return row


@blp.route("/<int:credential_id>")
class CredentialItem(MethodView):
    @blp.response(200, CredentialOutput)
    def get(self, credential_id):
        """Credential metadata"""
        return service.get(get_session(), credential_id)

    @blp.arguments(CredentialPatch)
    @blp.response(200, CredentialOutput)
    @blp.alt_response(202, schema=ApprovalOutput, description="secrets change requested: waits for approval")
    def patch(self, data, credential_id):
        """Change metadata now; a secrets change becomes a four-eye request (202)"""
        session = get_session()
        row = service.get(session, credential_id)
        secrets, reason = data.pop("secrets", None), data.pop("reason", None)
        if "name" in data:
            _unique(session, data["name"], row.id)
        if secrets is not None:
            service.check_secrets(row.kind, secrets, creating=True)
        for key, value in data.items():
            setattr(row, key, value)
        if data:
            audit.record("credential.update", target=("credential", row.id), session=session,
                         details={"fields": sorted(data)})
        session.commit()
        if secrets is None:
            return row
        approval = approval_service.request_action(
            session, "credential.update", row.id, {"secret_fields": sorted(secrets)},
            reason or f"replace secrets of credential {row.name}", rbac.current_principal(), secret=secrets)
        return accepted(approval)

    @blp.response(202, ApprovalOutput)
    def delete(self, credential_id):
        """Request deleting a credential (four-eye)"""
        session = get_session()
        service.get(session, credential_id)
        return accepted(approval_service.request_action(
            session, "credential.delete", credential_id, {}, "delete credential", rbac.current_principal()))
