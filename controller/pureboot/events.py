"""In-process publish/subscribe of what happens: node state changes, job status, ...

``publish(type, payload)`` hands an event to every subscriber (Server-Sent Events
streams, the webhook dispatcher). Delivery never blocks the publisher: a slow
subscriber's queue is bounded and it loses its oldest events, marked by a gap in ids.
Scope is one process; with several controller processes each has its own stream.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

log = logging.getLogger("pureboot.events")

_ids = itertools.count(1)
_lock = threading.Lock()
_subscribers: list["Subscription"] = []
#: Callables ``fn(event)`` run synchronously on publish; they must be quick (queue and return).
LISTENERS: list[Callable[[dict[str, Any]], None]] = []


class Subscription:
    def __init__(self, types: Iterable[str] | None = None, node: int | None = None, maxsize: int = 1000):
        self.types = set(types or ())
        self.node = node
        self.queue: queue.Queue = queue.Queue(maxsize=maxsize)

    def wants(self, event: dict[str, Any]) -> bool:
        if self.types and not any(event["type"] == t or event["type"].startswith(t + ".") for t in self.types):
            return False
        return self.node is None or event["payload"].get("node_id") == self.node

    def offer(self, event: dict[str, Any]) -> None:
        if not self.wants(event):
            return
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()  # drop the oldest, keep the newest
                except queue.Empty:
                    pass

    def get(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        with _lock:
            if self in _subscribers:
                _subscribers.remove(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def subscribe(types: Iterable[str] | None = None, node: int | None = None) -> Subscription:
    sub = Subscription(types, node)
    with _lock:
        _subscribers.append(sub)
    return sub


def publish(type: str, payload: dict[str, Any], *, listeners: bool = True) -> dict[str, Any]:
    """Send an event to every interested subscriber and (unless told not to) listener.

    ``listeners=False`` is for re-publishing, to this process's streams, an event that
    another process already published (and delivered to webhooks). Never raises.
    """
    event = {"id": next(_ids), "type": type, "time": datetime.now(timezone.utc).isoformat(),
             "payload": payload}
    with _lock:
        targets = list(_subscribers)
    for sub in targets:
        sub.offer(event)
    for listener in list(LISTENERS) if listeners else ():
        try:
            listener(event)
        except Exception:  # noqa: BLE001 - a broken listener must not break the publisher
            log.exception("event listener %r failed", listener)
    return event
