"""The lifecycle table: every allowed transition works, every other one is refused."""

from __future__ import annotations

import itertools

import pytest

from pureboot import lifecycle
from pureboot.errors import Conflict
from pureboot.lifecycle import State
from pureboot.models import Node, NodeEvent, Workflow
from pureboot.services import nodes as service
from pureboot.services import workflows
from pureboot.services.nodes import TransitionContext

ALL_EDGES = list(itertools.product(State, State))
ALLOWED = {(t.source, t.target) for t in lifecycle.TRANSITIONS}


def _node_in(session, state: State) -> Node:
    workflow = session.query(Workflow).first() or workflows.create_workflow(
        session, {"name": "wf", "tasks": [{"type": "pxe_boot", "kernel": "k"}]})
    node = Node(mac="52:54:00:12:34:56", state=state.value, workflow_id=workflow.id, hardware={}, tags=[])
    session.add(node)
    session.flush()
    return node


def test_table_matches_prd_shape():
    # PRD 6.1: the main path and the extended states are all reachable.
    for edge in [(State.DISCOVERED, State.PENDING), (State.PENDING, State.INSTALLING),
                 (State.INSTALLING, State.INSTALLED), (State.INSTALLED, State.ACTIVE),
                 (State.ACTIVE, State.RETIRED), (State.ACTIVE, State.MIGRATING),
                 (State.MIGRATING, State.DEPROVISIONING), (State.DEPROVISIONING, State.RETIRED),
                 (State.RETIRED, State.DISCOVERED), (State.ACTIVE, State.PENDING)]:
        assert edge in ALLOWED, edge
    # Every state can be left, and every state but discovered can be reached.
    assert {s for s, _ in ALLOWED} == set(State)
    assert {t for _, t in ALLOWED} == set(State)


@pytest.mark.parametrize("source,target", sorted(ALLOWED), ids=lambda s: s.value)
def test_allowed_transition_commits_with_event(db, source, target):
    step = lifecycle.find(source, target)
    with db.session() as session:
        node = _node_in(session, source)
        event = service.transition(session, node, target.value,
                                   TransitionContext("tester", "because", approved=step.approval), commit=False)
        assert node.state == target.value
        assert (event.from_state, event.to_state, event.action) == (source.value, target.value, step.action)
        assert event.actor == "tester" and event.reason == "because"


@pytest.mark.parametrize("source,target", sorted(set(ALL_EDGES) - ALLOWED), ids=lambda s: s.value)
def test_refused_transition_changes_nothing(db, source, target):
    with db.session() as session:
        node = _node_in(session, source)
        with pytest.raises(Conflict) as refused:
            service.transition(session, node, target.value, TransitionContext("tester", approved=True), commit=False)
        assert refused.value.extra["allowed"] == lifecycle.allowed_targets(source)
        assert node.state == source.value
        assert session.query(NodeEvent).count() == 0


@pytest.mark.parametrize("step", [t for t in lifecycle.TRANSITIONS if t.approval],
                         ids=lambda t: f"{t.source.value}-{t.target.value}")
def test_critical_transitions_need_an_approval(db, step):
    with db.session() as session:
        node = _node_in(session, step.source)
        with pytest.raises(Conflict) as refused:
            service.transition(session, node, step.target.value, TransitionContext("admin"), commit=False)
        assert refused.value.extra["code"] == "approval_required"
        assert node.state == step.source.value


def test_reprovision_archives_previous_configuration(db):
    with db.session() as session:
        node = _node_in(session, State.ACTIVE)
        node.hostname, node.ip_address, node.hardware = "web1", "10.0.0.5", {"cpus": 4}
        event = service.transition(session, node, "pending",
                                   TransitionContext("admin", "rebuild", approved=True), commit=False)
        assert event.action == "reprovision"
        assert event.details["archived"]["hostname"] == "web1"
        assert event.details["archived"]["hardware"] == {"cpus": 4}
        assert node.workflow_version_id is not None


def test_assign_needs_a_workflow(db):
    from pureboot.errors import Invalid
    with db.session() as session:
        node = Node(mac="52:54:00:00:00:99", state="discovered", hardware={}, tags=[])
        session.add(node)
        session.flush()
        with pytest.raises(Invalid):
            service.transition(session, node, "pending", TransitionContext("op"), commit=False)
        assert node.state == "discovered"


def test_unknown_hook_name_is_caught_at_startup(monkeypatch):
    bogus = lifecycle.Transition(State.PENDING, State.RETIRED, "x", guards=("no_such_guard",))
    monkeypatch.setattr(lifecycle, "TRANSITIONS", lifecycle.TRANSITIONS + (bogus,))
    with pytest.raises(RuntimeError, match="no_such_guard"):
        lifecycle.check_hooks_registered()
