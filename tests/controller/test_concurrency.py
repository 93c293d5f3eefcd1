"""Two concurrent transitions of one node never both succeed (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from pureboot.errors import Conflict
from pureboot.models import Node, NodeEvent
from pureboot.services import nodes as service
from pureboot.services import workflows
from pureboot.services.nodes import TransitionContext

RACERS = 8


def _race(db, node_id: int, targets: list[str]) -> list[str]:
    barrier = threading.Barrier(len(targets))
    outcomes: list[str] = []

    def attempt(target: str) -> None:
        with db.sessions() as session:
            node = session.get(Node, node_id)  # everyone reads the same starting state
            barrier.wait()
            try:
                service.transition(session, node, target, TransitionContext(f"racer-{target}"))
                outcomes.append(f"ok:{target}")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def _pending_node(db) -> int:
    with db.session() as session:
        wf = workflows.create_workflow(session, {"name": "wf", "tasks": [{"type": "pxe_boot", "kernel": "k"}]})
        node = Node(mac="52:54:00:aa:bb:cc", state="pending", workflow_id=wf.id, hardware={}, tags=[])
        session.add(node)
        session.flush()
        return node.id


def test_same_transition_races_only_one_wins(db):
    node_id = _pending_node(db)
    outcomes = _race(db, node_id, ["installing"] * RACERS)
    assert outcomes.count("ok:installing") == 1 and outcomes.count("conflict") == RACERS - 1
    with db.session() as session:
        assert session.query(NodeEvent).filter_by(node_id=node_id).count() == 1


def test_conflicting_transitions_race_only_one_wins(db):
    node_id = _pending_node(db)
    outcomes = _race(db, node_id, ["installing", "retired", "discovered"] * 2)
    winners = [o for o in outcomes if o.startswith("ok:")]
    assert len(winners) == 1, outcomes
    with db.session() as session:
        node = session.get(Node, node_id)
        events = session.query(NodeEvent).filter_by(node_id=node_id).all()
        assert node.state == winners[0][3:] and len(events) == 1 and events[0].to_state == node.state
