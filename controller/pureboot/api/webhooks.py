"""/api/v1/webhooks: where events are POSTed (signed, retried)."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import get_session
from ..errors import Conflict, NotFound
from ..models import Webhook
from ..schemas.webhooks import WebhookInput, WebhookOutput, WebhookPatch
from ..secrets import box
from .blueprint import Blueprint
from .listing import apply_order, list_args, page_schema, paginate

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="Outbound webhooks: events POSTed with an HMAC-SHA256 signature")
ListArgs = list_args("WebhookListArgs", {}, ("id", "name"))


def _apply(webhook: Webhook, data: dict) -> None:
    if "secret" in data:
        secret = data.pop("secret")
        webhook.secret_encrypted = box().encrypt_bytes(secret) if secret else None
    for key, value in data.items():
        setattr(webhook, key, value)


def _save(session, webhook: Webhook) -> Webhook:
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a webhook named {webhook.name!r} already exists",
                       errors={"name": ["already exists"]}) from None
    session.commit()
    return webhook


def _get(session, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return webhook


@blp.route("")
class WebhookList(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema(WebhookOutput, "WebhookPage"))
    def get(self, args):
        """List webhooks"""
        return paginate(get_session(), apply_order(select(Webhook), Webhook, args.get("order_by")), args)

    @blp.arguments(WebhookInput)
    @blp.response(201, WebhookOutput)
    def post(self, data):
        """Create a webhook"""
        session = get_session()
        webhook = Webhook(event_types=[])
        _apply(webhook, data)
        session.add(webhook)
        return _save(session, webhook)


@blp.route("/<int:webhook_id>")
class WebhookItem(MethodView):
    @blp.response(200, WebhookOutput)
    def get(self, webhook_id):
        """One webhook (never its secret)"""
        return _get(get_session(), webhook_id)

    @blp.arguments(WebhookPatch)
    @blp.response(200, WebhookOutput)
    def patch(self, data, webhook_id):
        """Change a webhook; send secret: null to remove the signature"""
        session = get_session()
        webhook = _get(session, webhook_id)
        _apply(webhook, data)
        return _save(session, webhook)

    @blp.response(204)
    def delete(self, webhook_id):
        """Delete a webhook"""
        session = get_session()
        session.delete(_get(session, webhook_id))
        session.commit()
