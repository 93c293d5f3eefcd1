"""/api/v1/hypervisors: connection records for the five providers (PRD 8.1, 11)."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import rbac
from ..db import get_session
from ..errors import Conflict, NotFound
from ..models import Hypervisor
from ..schemas.approvals import ApprovalOutput
from ..schemas.hypervisors import HypervisorInput, HypervisorOutput, HypervisorPatch
from ..secrets import box
from ..services import approvals, audit
from . import etag
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("hypervisors", __name__, url_prefix="/api/v1/hypervisors",
                description="Hypervisor connections: libvirt, oVirt, Proxmox, VMware, Hyper-V")

FILTERS = {"name": Filter(Hypervisor.name, lookups=("exact", "icontains")),
           "provider": Filter(Hypervisor.provider, lookups=("exact", "in"))}
HypervisorListArgs = list_args("HypervisorListArgs", FILTERS, ("id", "name", "provider", "created_at"))


def _get(session, hypervisor_id: int) -> Hypervisor:
    row = session.get(Hypervisor, hypervisor_id)
    if row is None:
        raise NotFound(f"hypervisor {hypervisor_id} not found")
    return row


def _commit(session, name: str) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a hypervisor named {name!r} already exists", errors={"name": ["already exists"]}) from None


@blp.route("")
class HypervisorList(MethodView):
    @blp.arguments(HypervisorListArgs, location="query")
    @blp.response(200, page_schema(HypervisorOutput, "HypervisorPage"))
    def get(self, args):
        """List hypervisor connections"""
        stmt = apply_order(apply_filters(select(Hypervisor), args, FILTERS), Hypervisor, args.get("order_by"))
        return paginate(get_session(), stmt, args)

    @blp.arguments(HypervisorInput)
    @blp.response(201, HypervisorOutput)
    @etag.versioned
    def post(self, data):
        """Add a hypervisor connection"""
        session = get_session()
        password = data.pop("password", None)
        row = Hypervisor(**data)
        if password is not None:
            row.password_encrypted = box().encrypt(password)
        session.add(row)
        _commit(session, data["name"])
        return row


@blp.route("/<int:hypervisor_id>")
class HypervisorItem(MethodView):
    @blp.response(200, HypervisorOutput)
    @etag.versioned
    def get(self, hypervisor_id):
        """Hypervisor connection details"""
        return _get(get_session(), hypervisor_id)

    @blp.arguments(HypervisorPatch)
    @blp.response(200, HypervisorOutput)
    @blp.alt_response(202, schema=ApprovalOutput, description="password change requested: waits for approval")
    @etag.versioned
    def patch(self, data, hypervisor_id):
        """Change a hypervisor connection; a password change is a four-eye request (202)"""
        session = get_session()
        row = _get(session, hypervisor_id)
        changes_password = "password" in data
        password = data.pop("password", None)
        with etag.guarded(session, row):
            for key, value in data.items():
                setattr(row, key, value)
            _commit(session, row.name)
        if not changes_password:
            return row
        from .approvals import accepted
        return accepted(approvals.request_action(
            session, "hypervisor.password", row.id, {"clear": password is None},
            f"change the password of hypervisor {row.name}", rbac.current_principal(),
            secret={"password": password}))

    @blp.response(204)
    @etag.versioned
    def delete(self, hypervisor_id):
        """Remove a hypervisor connection"""
        session = get_session()
        row = _get(session, hypervisor_id)
        with etag.guarded(session, row):
            session.delete(row)
            session.commit()


def _prepare_password(session, target_id, payload):
    try:
        row = _get(session, int(target_id))
    except (TypeError, ValueError):
        raise NotFound(f"hypervisor {target_id} not found") from None
    return approvals.Plan("hypervisor", str(row.id), {"clear": bool(payload.get("clear"))},
                          f"{'clear' if payload.get('clear') else 'replace'} the password of hypervisor {row.name}")


def _execute_password(session, approval, principal):
    row = _get(session, int(approval.target_id))
    secret = box().decrypt_json(approval.secret_payload_encrypted) if approval.secret_payload_encrypted else {}
    password = secret.get("password")
    row.password_encrypted = box().encrypt(password) if password else None
    audit.record("credential.change", target=("hypervisor", row.id), session=session,
                 details={"field": "password", "cleared": password is None})
    return {"hypervisor": row.id, "has_password": row.password_encrypted is not None}


approvals.action("hypervisor.password", _prepare_password, _execute_password)
