"""The bulk event writer: ansible-runner's event_handler only queues; this thread stores.

Events are inserted in batches (one transaction per batch, not per event), so a
10,000-event playbook costs tens of commits. Each event's counter is unique per job
(a database constraint) and the writer skips counters it already stored, so an
event is never stored twice; ``close()`` drains the queue, so none is lost.
Every event goes through ``redact`` (secrets masked, see redaction.py) before it is stored:
stdout, stdout API and events API all read the stored rows, so none of them can show one.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import case, insert, update

from ..db import Database
from ..models import Job, JobEvent

log = logging.getLogger("pureboot.jobs.writer")

MAX_RES_BYTES = 16 * 1024  # module results larger than this are trimmed in event_data
_STOP = object()
FAILED_EVENTS = {"runner_on_failed", "runner_on_unreachable", "runner_item_on_failed", "runner_on_async_failed"}


def _trim(data: dict[str, Any]) -> dict[str, Any]:
    """event_data without bulky or duplicated fields (AWX stores everything: awx#14590)."""
    data = {k: v for k, v in data.items() if k not in ("stdout", "start_line", "end_line")}
    res = data.get("res")
    if res is not None:
        text = json.dumps(res, default=str)
        if len(text) > MAX_RES_BYTES:
            data["res"] = {"_trimmed": True, "_size": len(text), "msg": str(res.get("msg", ""))[:1024]
                           if isinstance(res, dict) else ""}
    return json.loads(json.dumps(data, default=str))


def to_row(job_id: int, event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("event_data") or {}
    name = event.get("event", "")
    created = event.get("created")
    try:
        created_at = datetime.fromisoformat(created) if created else datetime.now(timezone.utc)
    except ValueError:
        created_at = datetime.now(timezone.utc)
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=timezone.utc)
    return {
        "job_id": job_id, "counter": int(event["counter"]), "uuid": str(event.get("uuid", ""))[:36],
        "parent_uuid": str(data.get("parent_uuid", ""))[:36], "event": name[:64],
        "host": str(data.get("host") or data.get("remote_addr") or "")[:255],
        "play": str(data.get("play", ""))[:1024], "task": str(data.get("task", ""))[:1024],
        "role": str(data.get("role", ""))[:1024],
        "failed": name in FAILED_EVENTS and not data.get("ignore_errors"),
        "changed": bool((data.get("res") or {}).get("changed")) if isinstance(data.get("res"), dict) else False,
        "stdout": event.get("stdout", "") or "",
        "start_line": int(event.get("start_line", 0)), "end_line": int(event.get("end_line", 0)),
        "event_data": _trim(data), "created": created_at,
    }


class EventWriter:
    def __init__(self, db: Database, job_id: int, batch_size: int = 500, max_wait: float = 0.1):
        self.db, self.job_id = db, job_id
        self.batch_size, self.max_wait = batch_size, max_wait
        self.queue: queue.Queue = queue.Queue()
        self.seen: set[int] = set()
        self.counter_base = self.line_base = self.max_counter = self.max_line = 0
        self.stored = 0
        self.error: BaseException | None = None
        self.first_stored = threading.Event()
        # Set by the runner before the playbook starts; identity until then (no events yet).
        self.redact: Callable[[Any], Any] = lambda value: value
        self.thread = threading.Thread(target=self._loop, name=f"job-{job_id}-events", daemon=True)
        self.thread.start()

    def handler(self, event: dict[str, Any]) -> bool:
        """ansible-runner's event_handler: queue and return at once."""
        if "counter" in event:
            if self.counter_base or self.line_base:  # a follow-up run of the same job
                event = dict(event, counter=int(event["counter"]) + self.counter_base,
                             start_line=int(event.get("start_line", 0)) + self.line_base,
                             end_line=int(event.get("end_line", 0)) + self.line_base)
            self.max_counter = max(self.max_counter, int(event["counter"]))
            self.max_line = max(self.max_line, int(event.get("end_line", 0)))
            self.queue.put(event)
        return False  # stored in the database; no copy in the artifacts directory

    def next_run(self) -> None:
        """Number the events of another run of this job after those already seen."""
        self.counter_base, self.line_base = self.max_counter, self.max_line

    def close(self) -> int:
        """Wait until every queued event is stored; returns how many were stored."""
        self.queue.put(_STOP)
        self.thread.join()
        if self.error is not None:
            raise RuntimeError(f"storing job events failed: {self.error}") from self.error
        return self.stored

    def _loop(self) -> None:
        """Batch = up to batch_size events, or what arrived within max_wait of the first."""
        done = False
        while not done:
            batch: list[dict[str, Any]] = []
            item = self.queue.get()
            deadline = time.monotonic() + self.max_wait
            while True:
                if item is _STOP:
                    done = True
                    break
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
                try:
                    item = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if batch and self.error is None:
                try:
                    self._store(batch)
                except Exception as exc:  # noqa: BLE001 - reported by close()
                    log.exception("job %s: storing %d events failed", self.job_id, len(batch))
                    self.error = exc

    def _store(self, batch: list[dict[str, Any]]) -> None:
        rows = []
        for event in batch:
            counter = int(event["counter"])
            if counter not in self.seen:
                self.seen.add(counter)
                rows.append(to_row(self.job_id, self.redact(event)))
        if not rows:
            return
        size = sum(len(r["stdout"].encode()) + (1 if r["stdout"] else 0) for r in rows)
        last_line = max(r["end_line"] for r in rows)
        with self.db.session() as session:  # one transaction per batch
            session.execute(insert(JobEvent), rows)
            session.execute(update(Job).where(Job.id == self.job_id).values(
                event_count=Job.event_count + len(rows), stdout_bytes=Job.stdout_bytes + size,
                stdout_lines=case((Job.stdout_lines > last_line, Job.stdout_lines), else_=last_line)))
        self.stored += len(rows)
        self.first_stored.set()

