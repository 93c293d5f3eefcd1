"""Watchdog: a node stuck in installing past ``install_timeout`` goes to failed.

Runs as a daemon thread in each controller process (``pureboot serve``) and on demand
(``pureboot watchdog --once``). Several running at once is harmless: a node another
sweep already failed is skipped (the version counter makes the loser's update fail).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import lifecycle
from ..db import Database
from ..errors import Conflict
from ..models import Node, utcnow
from . import tokens  # noqa: F401  (registers the token effects)
from .nodes import TransitionContext, transition

log = logging.getLogger("pureboot.watchdog")


def sweep(session: Session, timeout: int, now: datetime | None = None) -> list[int]:
    """Fail every node installing for longer than `timeout` seconds; returns their ids."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=timeout)
    stale = session.scalars(select(Node.id).where(Node.state == lifecycle.State.INSTALLING,
                                                  Node.state_changed_at < cutoff)).all()
    failed = []
    for node_id in stale:
        node = session.get(Node, node_id)
        if node is None or node.state != lifecycle.State.INSTALLING:
            continue
        minutes = (now - node.state_changed_at).total_seconds() / 60
        reason = (f"watchdog: installing for {minutes:.0f} min without finishing "
                  f"(install_timeout {timeout} s); last phase {node.install_phase or 'unknown'}, "
                  f"progress {node.install_progress if node.install_progress is not None else 'unknown'}%")
        try:
            transition(session, node, lifecycle.State.FAILED, TransitionContext("watchdog", reason))
        except Conflict:
            session.rollback()  # someone else moved it meanwhile
            continue
        log.warning("node %s (%s): %s", node.id, node.mac, reason)
        failed.append(node.id)
    return failed


def run_once(database: Database, timeout: int) -> list[int]:
    with database.sessions() as session:
        return sweep(session, timeout)


class Watchdog(threading.Thread):
    """Sweeps every `interval` seconds until stopped; never dies on an error."""

    def __init__(self, database: Database, timeout: int, interval: float):
        super().__init__(name="pureboot-watchdog", daemon=True)
        self.database, self.timeout, self.interval = database, timeout, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                run_once(self.database, self.timeout)
            except Exception:  # noqa: BLE001 - a DB outage must not end the watchdog
                log.exception("watchdog sweep failed; retrying in %s s", self.interval)

    def stop(self) -> None:
        self.stopped.set()
