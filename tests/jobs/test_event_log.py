"""The durable event log: transactional publish, resume (Last-Event-ID), filters, retention,
id order on PostgreSQL, and no request-context warnings when a stream is closed."""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from pureboot import events
from pureboot.errors import Conflict
from pureboot.models import EventLog, Node, utcnow
from pureboot.services import nodes


def _sse(response, count: int, timeout: float = 20) -> list[dict]:
    """The next `count` events (id, type, data) of a streamed test-client response."""
    out, deadline = [], time.monotonic() + timeout
    for chunk in response.response:
        text_ = chunk.decode() if isinstance(chunk, bytes) else chunk
        if text_.startswith("id: "):
            fields = dict(line.split(": ", 1) for line in text_.strip().split("\n"))
            out.append({"id": int(fields["id"]), "type": fields["event"], "data": json.loads(fields["data"])})
            if len(out) == count:
                return out
        assert time.monotonic() < deadline, out
    raise AssertionError("stream ended")


def _transitions(client, count: int, first: int = 0) -> list[int]:
    """`count` node.state events (each its own node, discovered -> retired); their node ids."""
    ids = []
    for i in range(first, first + count):
        node = client.post("/api/v1/nodes", json={"mac": f"52:54:00:cc:00:{i:02x}"}).get_json()["id"]
        assert client.patch(f"/api/v1/nodes/{node}/state", json={"state": "retired"}).status_code == 200
        ids.append(node)
    return ids


def _log(db) -> list[EventLog]:
    with db.sessions() as session:
        return list(session.scalars(select(EventLog).order_by(EventLog.id)))


def test_resume_with_last_event_id_gets_exactly_the_missed_events_in_order(client, db):
    node_ids = _transitions(client, 5)
    rows = _log(db)
    assert [r.payload["node_id"] for r in rows] == node_ids and [r.node_id for r in rows] == node_ids
    assert all(b.id > a.id for a, b in zip(rows, rows[1:], strict=False))
    seen_up_to = rows[1].id  # the client saw two events, then lost its connection
    response = client.get("/api/v1/events", headers={"Last-Event-ID": str(seen_up_to)}, buffered=False)
    got = _sse(response, 3)
    response.close()
    assert [e["id"] for e in got] == [r.id for r in rows[2:]]
    assert [e["data"]["payload"]["node_id"] for e in got] == node_ids[2:]
    assert got[0]["data"] == {"id": rows[2].id, "type": "node.state", "time": got[0]["data"]["time"],
                              "payload": rows[2].payload}
    # ?after= does the same; the header wins over it (a browser's reconnect is newer)
    response = client.get(f"/api/v1/events?after={rows[3].id}", buffered=False)
    assert [e["id"] for e in _sse(response, 1)] == [rows[4].id]
    response.close()
    response = client.get("/api/v1/events?after=0", headers={"Last-Event-ID": str(rows[3].id)}, buffered=False)
    assert [e["id"] for e in _sse(response, 1)] == [rows[4].id]
    response.close()


def test_bad_resume_points_are_json_422(client):
    for headers, query in (({"Last-Event-ID": "abc"}, ""), ({"Last-Event-ID": "9" * 30}, ""),
                           ({}, "?after=-1"), ({}, "?after=x"), ({}, "?node=99999999999999999999")):
        response = client.get(f"/api/v1/events{query}", headers=headers)
        assert response.status_code == 422 and response.is_json, (headers, query, response.data[:200])


def test_new_stream_starts_at_now_and_filters_by_type_prefix_and_node(client, db):
    old = _transitions(client, 1)[0]
    response = client.get("/api/v1/events?type=job,node.state&node=" + str(old + 2), buffered=False)
    assert next(iter(response.response)).startswith(b": connected")
    with db.session() as session:
        events.publish(session, "nodes.other", {"node_id": old + 2})  # "node" is no prefix of "nodes"
        events.publish(session, "job.status", {"job_id": 1, "node_id": old + 1})  # other node
        events.publish(session, "approval.requested", {"node_id": old + 2})  # other type
        events.publish(session, "job.status", {"job_id": 2, "node_id": old + 2})
    _transitions(client, 3, first=1)  # nodes old+1, old+2, old+3: only old+2 is wanted
    got = _sse(response, 2)
    response.close()
    assert [(e["type"], e["data"]["payload"].get("job_id")) for e in got] == [("job.status", 2), ("node.state", None)]
    assert got[1]["data"]["payload"]["node_id"] == old + 2


def test_rolled_back_or_conflicting_transition_publishes_nothing(app, db):
    delivered = []
    events.LISTENERS.append(delivered.append)
    try:
        with app.app_context():
            with db.sessions() as session:
                node = nodes.create_node(session, {"mac": "52:54:00:dd:00:01"}, "tester")
                session.commit()
                node_id = node.id
                nodes.transition(session, node, "retired", nodes.TransitionContext("tester"), commit=False)
                session.rollback()
            assert _log(db) == [] and delivered == []
            # a concurrent change makes the commit fail (version mismatch): no event either
            with db.sessions() as session:
                node = session.get(Node, node_id)
                session.commit()  # ends the read (SQLite), the node stays loaded at its version
                with db.session() as other:
                    other.execute(update(Node).where(Node.id == node_id).values(lock_version=Node.lock_version + 1))
                with pytest.raises(Conflict):
                    nodes.transition(session, node, "retired", nodes.TransitionContext("tester"))
            assert _log(db) == [] and delivered == []
            with db.sessions() as session:
                node = session.get(Node, node_id)
                nodes.transition(session, node, "retired", nodes.TransitionContext("tester"))
        rows = _log(db)
        assert [(r.type, r.payload["to"]) for r in rows] == [("node.state", "retired")]
        assert [e["id"] for e in delivered] == [rows[0].id]  # webhooks: once, after the commit
    finally:
        events.LISTENERS.remove(delivered.append)


def test_retention_prunes_old_events_every_n_publishes(db, monkeypatch):
    with db.session() as session:
        for hours in (100, 80, 1):
            events.publish(session, "node.state", {"node_id": hours})
    with db.session() as session:
        session.execute(update(EventLog).values(created_at=utcnow() - timedelta(hours=1)))
        for hours in (100, 80):
            session.execute(update(EventLog).where(EventLog.node_id == hours)
                            .values(created_at=utcnow() - timedelta(hours=hours)))
    monkeypatch.setitem(events.RETENTION, "hours", 72)
    monkeypatch.setattr(events, "PRUNE_EVERY", 3)
    monkeypatch.setattr(events, "_published", 0)
    events.publish_now(db, "node.state", {"node_id": 7})  # 1st and 2nd: no prune yet
    events.publish_now(db, "node.state", {"node_id": 8})
    assert sorted(r.node_id for r in _log(db)) == [1, 7, 8, 80, 100]
    events.publish_now(db, "node.state", {"node_id": 9})  # 3rd: prune
    assert sorted(r.node_id for r in _log(db)) == [1, 7, 8, 9]
    with db.engine.begin() as connection:
        assert events.prune(connection, hours=0) == 4


def test_postgresql_event_ids_become_visible_in_order(db):
    """A second writer waits for the first one's commit, so its id is larger and never
    visible before the first's: a reader's cursor cannot skip an event."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: ids are in commit order by construction")
    first = db.sessions()
    first.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": events.LOCK_KEY})  # mid-commit
    first_id = first.scalar(text("INSERT INTO event_log (type, payload, created_at) "
                                 "VALUES ('t', '{}', now()) RETURNING id"))
    second = threading.Thread(target=events.publish_now, args=(db, "t", {}))
    second.start()
    time.sleep(0.5)
    assert second.is_alive()  # waiting for the lock
    with db.sessions() as session:
        assert events.read_after(session, 0)[0] == []  # neither is visible yet
    first.commit()
    first.close()
    second.join(10)
    with db.sessions() as session:
        got = [e["id"] for e in events.read_after(session, 0)[0]]
    assert len(got) == 2 and got[0] == first_id and got[1] > first_id


def test_closing_a_stream_from_another_thread_needs_no_request_context(client, monkeypatch):
    """A server closes a stream from another thread or at GC: with stream_with_context that
    raised (LookupError / "Popped wrong request context"); the stream must not need one."""
    problems: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: problems.append(repr(u.exc_value)))
    streams = [client.get("/api/v1/events", buffered=False)]  # a list: dropped below, then GC
    next(iter(streams[0].response))

    def close():
        try:
            streams[0].close()
        except Exception as exc:  # noqa: BLE001 - recorded and asserted on
            problems.append(repr(exc))
    closer = threading.Thread(target=close)
    closer.start()
    closer.join(10)
    streams.clear()
    gc.collect()
    assert problems == []


def test_approvals_publish_their_status_changes(client, client_as, db):
    wf = client.post("/api/v1/workflows", json={"name": "ev", "tasks": []}).get_json()["id"]
    node = client.post("/api/v1/nodes", json={"mac": "52:54:00:ab:00:01", "workflow_id": wf}).get_json()["id"]
    with db.session() as session:
        session.execute(update(Node).where(Node.id == node).values(state="active"))
    response = client.get(f"/api/v1/events?type=approval,node&node={node}", buffered=False)
    next(iter(response.response))
    approval = client.patch(f"/api/v1/nodes/{node}/state", json={"state": "pending"}).get_json()["id"]
    assert client_as("admin", "second").post(f"/api/v1/approvals/{approval}/approve", json={}).status_code == 200
    got = _sse(response, 4)
    response.close()
    assert [(e["type"], e["data"]["payload"].get("status") or e["data"]["payload"]["to"]) for e in got] == [
        ("approval.status", "pending"), ("approval.status", "approved"), ("node.state", "pending"),
        ("approval.status", "executed")]
    assert got[-1]["data"]["payload"] == {"approval_id": approval, "action": "node.reprovision",
                                          "status": "executed", "target_type": "node", "target_id": str(node),
                                          "node_id": node, "requester": "admin", "approver": "second"}
