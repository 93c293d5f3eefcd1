"""PostgreSQL LISTEN/NOTIFY as a wake-up for event streams (pureboot.events).

Writers send ``NOTIFY pureboot_events`` in the transaction that writes events, so it is
delivered at commit. One thread per process LISTENs on its own connection and wakes this
process's streams, which then poll at once instead of at their next poll interval.
Only an optimisation: streams poll on their own, so a lost notification or a dropped
listener connection costs latency, never events.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from sqlalchemy.engine import Engine

log = logging.getLogger("pureboot.events")
CHANNEL = "pureboot_events"
_started: set[str] = set()
_lock = threading.Lock()


def ensure_listener(engine: Engine, wake) -> None:
    """Start (once per database per process) the thread that calls `wake()` on NOTIFY."""
    if engine.dialect.name != "postgresql":
        return
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with _lock:
        if dsn in _started:
            return
        _started.add(dsn)
    threading.Thread(target=_listen, args=(dsn, wake), name="pureboot-event-listen", daemon=True).start()


def _listen(dsn: str, wake) -> None:
    while True:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                wake()  # events may have committed while we were not listening
                for _ in connection.notifies():
                    wake()
        except psycopg.Error as exc:
            log.warning("event wake-up listener: %s; streams keep polling, retrying in 5 s", exc)
        time.sleep(5)
