"""Outbound webhooks: every published event (events.py) goes to the matching webhooks.

Delivery runs in background threads: POST of the JSON event, signed with
HMAC-SHA256 of the body under the webhook's secret (header
``X-PureBoot-Signature-256: sha256=<hex>``), retried with exponential backoff on
network errors, 5xx, 408 and 429, up to ``max_attempts``. The publisher never waits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import select

from .. import events
from ..config import Settings
from ..db import Database
from ..models import Webhook, utcnow
from ..secrets import SecretBox

log = logging.getLogger("pureboot.webhooks")
EVENT_TYPES = ("node", "node.state", "job", "job.status", "approval", "approval.status")
RETRY_STATUSES = {408, 429}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def matches(hook_types: list[str], event_type: str) -> bool:
    return not hook_types or any(event_type == t or event_type.startswith(t + ".") for t in hook_types)


class Dispatcher:
    def __init__(self, settings: Settings, db: Database, backoff: float = 1.0, timeout: float = 10.0):
        self.settings, self.db, self.backoff, self.timeout = settings, db, backoff, timeout
        self.queue: queue.Queue = queue.Queue(maxsize=10000)
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pureboot-webhook")
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False

    def offer(self, event: dict[str, Any]) -> None:
        """events listener: queue and return (drops, with a log line, if 10,000 are waiting)."""
        if self._stopped:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="pureboot-webhooks", daemon=True)
                self._thread.start()
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            log.error("webhook queue full; event %s (%s) not delivered", event["id"], event["type"])

    def _box(self) -> SecretBox:
        """Built per delivery: the key file may have been rotated since the last one."""
        return SecretBox.for_settings(self.settings)

    def _loop(self) -> None:
        while (event := self.queue.get()) is not None:
            try:
                with self.db.session() as session:
                    hooks = [(h.id, h.url, h.secret_encrypted, h.max_attempts) for h in session.scalars(
                        select(Webhook).where(Webhook.active.is_(True))) if matches(h.event_types, event["type"])]
            except Exception:  # noqa: BLE001 - the database may be briefly away; skip this event
                log.exception("webhooks: cannot read webhooks for event %s", event["id"])
                continue
            for hook in hooks:
                self.pool.submit(self._deliver, *hook, event)

    def _deliver(self, hook_id: int, url: str, secret_token: bytes | None, attempts: int, event: dict) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "PureBoot-Webhook",
                   "X-PureBoot-Event": event["type"], "X-PureBoot-Delivery": str(uuid.uuid4())}
        if secret_token:
            headers["X-PureBoot-Signature-256"] = signature(self._box().decrypt(secret_token), body)
        outcome = ""
        for attempt in range(1, attempts + 1):
            headers["X-PureBoot-Attempt"] = str(attempt)
            try:
                response = requests.post(url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
                outcome = f"HTTP {response.status_code}"
                if response.status_code < 300:
                    break
                if response.status_code < 500 and response.status_code not in RETRY_STATUSES:
                    break  # the receiver refuses this event; retrying will not help
            except requests.RequestException as exc:
                outcome = f"error: {type(exc).__name__}"
            if attempt < attempts and not self._stopped:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        self._record(hook_id, f"{outcome} after {attempt} attempt(s) for event {event['id']} ({event['type']})")

    def _record(self, hook_id: int, status: str) -> None:
        try:
            with self.db.session() as session:
                hook = session.get(Webhook, hook_id)
                if hook is not None:
                    hook.last_status, hook.last_delivery_at = status[:255], utcnow()
        except Exception:  # noqa: BLE001
            log.exception("webhooks: cannot record delivery status")

    def shutdown(self) -> None:
        self._stopped = True
        self.queue.put(None)
        self.pool.shutdown(wait=False, cancel_futures=True)


_current: Dispatcher | None = None
_current_lock = threading.Lock()


def _listener(event: dict[str, Any]) -> None:
    dispatcher = _current
    if dispatcher is not None:
        dispatcher.offer(event)


def init_app(app, settings: Settings, db: Database, backoff: float = 1.0) -> Dispatcher:
    """One dispatcher per process (the event bus is per process): a new app replaces it."""
    global _current
    dispatcher = Dispatcher(settings, db, backoff=backoff)
    app.extensions["pureboot.webhooks"] = dispatcher
    with _current_lock:
        previous, _current = _current, dispatcher
        if _listener not in events.LISTENERS:
            events.LISTENERS.append(_listener)
    if previous is not None:
        previous.shutdown()
    return dispatcher
