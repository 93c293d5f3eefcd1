"""Concurrent check-ins of one MAC: one registration, one install start, no errors."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from pureboot.models import Node, NodeEvent
from pureboot.services import tokens
from pureboot.services.checkin import BootRequest, check_in

from .conftest import MAC, register

RACERS = 8


def _race(db, discovery=True):
    barrier = threading.Barrier(RACERS)
    results, errors = [], []

    def one():
        with db.sessions() as session:
            barrier.wait()
            try:
                results.append(check_in(session, BootRequest(mac=MAC), discovery=discovery))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def test_same_unknown_mac_registers_once(db):
    results, errors = _race(db)
    assert errors == [] and len(results) == RACERS
    # every racer is sent to the inventory (agent) with a token; the last rotation wins
    assert {(r.decision.action, r.decision.mode) for r in results} == {("agent", "inventory")}
    assert all(r.token for r in results)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Node)) == 1
        node = session.scalars(select(Node)).one()
        assert node.state == "discovered"
        assert node.install_token_hash in {tokens.token_hash(r.token) for r in results}


def test_pending_node_starts_one_install(client, db, workflow):
    register(client, MAC, workflow["id"])
    results, errors = _race(db)
    assert errors == [] and {r.decision.action for r in results} == {"install"}
    assert sum(1 for r in results if r.decision.transition == "installing") == 1
    with db.session() as session:
        starts = session.scalar(select(func.count()).select_from(NodeEvent).where(NodeEvent.to_state == "installing"))
        assert starts == 1
        node = session.scalars(select(Node)).one()
        assert node.state == "installing" and node.install_token_hash
