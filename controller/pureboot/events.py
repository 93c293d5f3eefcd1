"""Durable events (node state changes, job status, ...) in the ``event_log`` table.

``publish(session, type, payload)`` attaches an event to the session's transaction. The
row is written just before that transaction commits, so an event is visible exactly when
the change it describes is: a rolled-back transition leaves no event, a committed one
always has its event. After the commit, LISTENERS (the webhook dispatcher) get the event
in the publishing process only, so each event reaches webhooks once per cluster.
``publish_now(db, ...)`` is for callers without a transaction at hand.

Readers (GET /api/v1/events, any controller process) poll ``read_after(session, id)``.
That is only correct if ids become visible in increasing order: a reader that has seen
id 11 must never later find 10. SQLite has one writer at a time, so ids are assigned in
commit order. On PostgreSQL a sequence is not: writers take a transaction-scoped
advisory lock just before inserting their events and keep it until commit, which
serializes the short tail "insert events + commit" of event-writing transactions.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import delete, event, func, insert, or_, select, text
from sqlalchemy.orm import Session

from . import event_wakeup
from .models import EventLog, utcnow

log = logging.getLogger("pureboot.events")

#: Callables ``fn(event)`` run after the commit, in the publishing process; they must be
#: quick (queue and return).
LISTENERS: list[Callable[[dict[str, Any]], None]] = []
PENDING = "pureboot.events.pending"
LOCK_KEY = 0x707572656576  # any constant; "pureev": the one advisory lock of the event log
PRUNE_EVERY = 500  # a process prunes after every this many events it published
RETENTION = {"hours": 72.0}  # set from settings by configure()

_published = 0
_changed = threading.Condition()
_generation = 0


def configure(retention_hours: float) -> None:
    RETENTION["hours"] = float(retention_hours)


def publish(session: Session, type: str, payload: dict[str, Any]) -> None:
    """Write the event when `session` commits; nothing if it rolls back. Never raises."""
    node_id = payload.get("node_id")
    session.info.setdefault(PENDING, []).append(
        {"type": type, "node_id": node_id if isinstance(node_id, int) else None, "payload": payload})


def publish_now(db, type: str, payload: dict[str, Any]) -> None:
    """Publish in a short transaction of its own (`db`: a pureboot.db.Database)."""
    with db.session() as session:
        publish(session, type, payload)


def as_event(row: EventLog) -> dict[str, Any]:
    """The shape streamed and POSTed to webhooks."""
    return {"id": row.id, "type": row.type, "time": row.created_at.isoformat(), "payload": row.payload}


# -- writing: hooks on every Session ---------------------------------------------------------

@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.get(PENDING):
        return
    session.flush()  # the change itself first: a conflict fails before we take the lock
    pending = session.info.pop(PENDING)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        session.execute(text(f"NOTIFY {event_wakeup.CHANNEL}"))  # delivered at commit (event_wakeup)
    now = utcnow()
    rows = session.scalars(insert(EventLog).returning(EventLog.id, sort_by_parameter_order=True),
                           [{**item, "created_at": now} for item in pending]).all()
    session.info["pureboot.events.written"] = [
        {"id": row_id, "type": item["type"], "time": now.isoformat(), "payload": item["payload"]}
        for row_id, item in zip(rows, pending, strict=True)]


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    written = session.info.pop("pureboot.events.written", None)
    if written:
        _wake()
        for item in written:
            _notify(item)
        _maybe_prune(session, len(written))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: commit done or rolled back
        session.info.pop(PENDING, None)
        session.info.pop("pureboot.events.written", None)


def _notify(item: dict[str, Any]) -> None:
    for listener in list(LISTENERS):
        try:
            listener(item)
        except Exception:  # noqa: BLE001 - a broken listener must not break the publisher
            log.exception("event listener %r failed", listener)


def _maybe_prune(session: Session, count: int) -> None:
    """Every PRUNE_EVERY events this process wrote: one indexed DELETE, own connection."""
    global _published
    before, _published = _published, _published + count
    if before // PRUNE_EVERY == _published // PRUNE_EVERY:
        return
    try:
        with session.get_bind().engine.begin() as connection:
            prune(connection)
    except Exception:  # noqa: BLE001 - the next round tries again
        log.exception("pruning the event log failed")


def prune(connection, hours: float | None = None) -> int:
    """Delete events older than `hours` (default: the retention setting); returns how many."""
    cutoff = utcnow() - timedelta(hours=RETENTION["hours"] if hours is None else hours)
    return connection.execute(delete(EventLog).where(EventLog.created_at < cutoff)).rowcount


# -- reading ---------------------------------------------------------------------------------

def _wake() -> None:
    global _generation
    with _changed:
        _generation += 1
        _changed.notify_all()


def generation() -> int:
    return _generation


def listen(engine) -> None:
    """Wake this process's streams on other processes' commits too (PostgreSQL only)."""
    event_wakeup.ensure_listener(engine, _wake)


def wait(seen: int, timeout: float) -> None:
    """Sleep up to `timeout`, less if this process commits an event after generation `seen`."""
    with _changed:
        _changed.wait_for(lambda: _generation != seen, timeout)


def latest_id(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(EventLog.id), 0)))


def read_after(session: Session, after: int, types: Iterable[str] = (), node: int | None = None,
               limit: int = 500) -> tuple[list[dict[str, Any]], int, bool]:
    """Events with id > `after` matching the filters, oldest first; the new cursor; and
    whether more rows may follow (`limit` rows were scanned).

    The cursor moves past rows filtered out too, so a quiet filter does not rescan them.
    """
    top = select(EventLog.id).where(EventLog.id > after).order_by(EventLog.id).limit(limit)
    scanned = session.scalars(top).all()
    if not scanned:
        return [], after, False
    query = select(EventLog).where(EventLog.id > after, EventLog.id <= scanned[-1]).order_by(EventLog.id)
    types = list(types)
    if types:
        query = query.where(or_(*(or_(EventLog.type == t, EventLog.type.startswith(t + ".", autoescape=True))
                                  for t in types)))
    if node is not None:
        query = query.where(EventLog.node_id == node)
    return [as_event(row) for row in session.scalars(query)], scanned[-1], len(scanned) == limit
