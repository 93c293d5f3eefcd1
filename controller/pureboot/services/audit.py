"""Tamper-evident audit log: append, verify, clear (the latter only via an approval).

Each entry stores ``hash = sha256(prev_hash + canonical(entry))``. Appenders first UPDATE
the single ``audit_head`` row, which serialises them (row lock on PostgreSQL, write lock on
SQLite), so two concurrent appends can never share a predecessor.

Other parts of PureBoot call :func:`record`::

    from pureboot.services import audit
    audit.record("job.launch", target=("job", job.id), details={"template": 3})
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import GENESIS, AuditEntry, AuditHead, utcnow

log = logging.getLogger("pureboot.audit")
HEAD_ID = 1


def canonical(entry: AuditEntry) -> str:
    """The hashed content of an entry: stable across backends (sorted keys, UTC, no floats drift)."""
    created = entry.created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({
        "seq": entry.seq, "created_at": created, "actor": entry.actor, "action": entry.action,
        "target_type": entry.target_type, "target_id": entry.target_id, "source_ip": entry.source_ip,
        "outcome": entry.outcome, "details": entry.details or {},
    }, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    """Take the chain lock (a no-op UPDATE on the head row) and return the head."""
    result = session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq))
    if result.rowcount:
        return session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID)
                               .execution_options(populate_existing=True)).scalar_one()
    # The head row is gone (an emptied database): rebuild it from the entries. Two racing
    # rebuilders collide on the primary key and one of them fails; it never forks the chain.
    head = _rebuilt_head(session)
    session.add(head)
    session.flush()
    return head


def _rebuilt_head(session: Session) -> AuditHead:
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return AuditHead(id=HEAD_ID, seq=last.seq if last else 0, last_hash=last.hash if last else GENESIS,
                     anchor_seq=0, anchor_hash=GENESIS)


def append(session: Session, action: str, *, actor: str, target: tuple[str, Any] | None = None,
           outcome: str = "success", details: dict[str, Any] | None = None,
           source_ip: str | None = None) -> AuditEntry:
    """Append one entry inside `session`'s transaction (commits with the caller's change)."""
    details = json.loads(json.dumps(details or {}, default=str))  # storable and hashable as stored
    head = _lock_head(session)
    entry = AuditEntry(seq=head.seq + 1, created_at=utcnow(),
                       actor=actor[:128], action=action[:64], outcome=outcome, details=details,
                       target_type=str(target[0])[:32] if target else None,
                       target_id=str(target[1])[:64] if target and target[1] is not None else None,
                       source_ip=source_ip, prev_hash=head.last_hash, hash="")
    entry.hash = entry_hash(head.last_hash, entry)
    session.add(entry)
    head.seq, head.last_hash = entry.seq, entry.hash
    session.flush()
    return entry


def _request_context() -> tuple[str | None, str | None]:
    try:
        from flask import has_request_context, request
        if not has_request_context():
            return None, None
        from ..api.actor import current_actor
        return current_actor(), request.remote_addr
    except RuntimeError:
        return None, None


def record(action: str, *, target: tuple[str, Any] | None = None, outcome: str = "success",
           details: dict[str, Any] | None = None, actor: str | None = None,
           session: Session | None = None, source_ip: str | None = None) -> None:
    """Audit `action`. Who and the source IP come from the current request unless given.

    With `session`, the entry joins that transaction (atomic with the audited change, call
    it just before committing); without, it is committed at once in its own transaction, so
    failures and denials are kept even when the request's work rolls back.
    """
    req_actor, req_ip = _request_context()
    kwargs = dict(actor=actor or req_actor or "system", target=target, outcome=outcome,
                  details=details, source_ip=source_ip or req_ip)
    if session is not None:
        append(session, action, **kwargs)
        return
    from ..db import get_db
    for attempt in range(3):
        try:
            with get_db().session() as own:
                append(own, action, **kwargs)
            return
        except IntegrityError:  # two appenders re-created a missing head row at once
            if attempt == 2:
                raise


@dataclass
class Verification:
    ok: bool = True
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, seq: int | None, problem: str) -> None:
        self.ok = False
        if len(self.problems) < 100:
            self.problems.append({"seq": seq, "problem": problem})


def verify(session: Session, batch: int = 1000) -> Verification:
    """Walk the chain: every hash recomputes, links match, no seq is missing, tip matches head."""
    result = Verification()
    head = session.get(AuditHead, HEAD_ID)
    prev_hash = head.anchor_hash if head else GENESIS
    expected_seq = (head.anchor_seq if head else 0) + 1
    last_seq = 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > last_seq)
                               .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        for entry in rows:
            if result.first_seq is None:
                result.first_seq = entry.seq
            if entry.seq != expected_seq:
                result.fail(entry.seq, f"entries {expected_seq}..{entry.seq - 1} are missing")
            if entry.prev_hash != prev_hash:
                result.fail(entry.seq, "prev_hash does not match the previous entry (deleted or reordered)")
            if entry_hash(entry.prev_hash, entry) != entry.hash:
                result.fail(entry.seq, "content does not match its hash (edited)")
            prev_hash, expected_seq, last_seq = entry.hash, entry.seq + 1, entry.seq
            result.checked += 1
    result.last_seq = last_seq or None
    if head is not None and (head.seq != (last_seq or head.anchor_seq) or head.last_hash != prev_hash):
        result.fail(head.seq, "the newest entries are missing (chain tip does not match)")
    return result


def clear(session: Session, before_seq: int, actor: str) -> int:
    """Delete entries with seq < before_seq, leaving an anchor so the rest still verifies.

    Called only by an executed four-eye approval (action ``audit.clear``).
    """
    head = _lock_head(session)
    last = session.scalars(select(AuditEntry).where(AuditEntry.seq < before_seq)
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    if last is None:
        return 0
    count = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq <= last.seq))
    head.anchor_seq, head.anchor_hash = last.seq, last.hash
    session.execute(delete(AuditEntry).where(AuditEntry.seq <= last.seq))
    session.flush()
    log.info("audit log cleared through seq %s by %s (%s entries)", last.seq, actor, count)
    return count
