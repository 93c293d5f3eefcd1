"""Four-eye: critical actions wait for a different approver, execute once, expire, dry-run."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pureboot.models import Approval, Node, NodeEvent, utcnow
from pureboot.rbac import Principal
from pureboot.services import approvals


def _active_node(client, db):
    """A node in state active with a workflow (as after a finished install)."""
    wf = client.post("/api/v1/workflows", json={"name": "ubuntu", "tasks": []})
    assert wf.status_code == 201, wf.get_json()
    node = client.post("/api/v1/nodes", json={"mac": "52:54:00:aa:00:01", "workflow_id": wf.get_json()["id"]})
    with db.session() as s:
        s.execute(update(Node).where(Node.id == node.get_json()["id"]).values(state="active"))
    return node.get_json()["id"]


def _state(db, node_id):
    with db.session() as s:
        return s.get(Node, node_id).state


def test_reprovision_returns_202_and_never_runs_on_the_request(client, db):
    node_id = _active_node(client, db)
    response = client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "pending", "reason": "disk swap"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["action"] == "node.reprovision" and body["status"] == "pending"
    assert body["requester"] == "admin" and body["target_id"] == str(node_id)
    assert body["payload"] == {"from_state": "active", "to_state": "pending"}
    assert response.headers["Location"] == f"/api/v1/approvals/{body['id']}"
    assert _state(db, node_id) == "active"


def test_requester_cannot_approve_even_as_admin(client, db):
    node_id = _active_node(client, db)
    approval = client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "deprovisioning"}).get_json()
    for path in (f"/api/v1/approvals/{approval['id']}/approve", f"/api/v1/nodes/{node_id}/approve"):
        response = client.post(path, json={})
        assert response.status_code == 403 and response.get_json()["code"] == "self_approval"
    assert client.post(f"/api/v1/approvals/{approval['id']}/deny", json={}).status_code == 403
    assert _state(db, node_id) == "active"
    assert client.get(f"/api/v1/approvals/{approval['id']}").get_json()["status"] == "pending"


def test_operator_requests_admin_approves_once(client, client_as, db):
    node_id = _active_node(client, db)
    operator = client_as("operator")
    approval = operator.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "pending", "reason": "rebuild"})
    assert approval.status_code == 202
    approval_id = approval.get_json()["id"]
    assert operator.post(f"/api/v1/approvals/{approval_id}/approve", json={}).status_code == 403  # role
    done = client_as("admin", "second-admin").post(f"/api/v1/nodes/{node_id}/approve", json={"comment": "ok"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "executed" and done.get_json()["approver"] == "second-admin"
    assert done.get_json()["result"] == {"node": node_id, "from": "active", "to": "pending"}
    assert _state(db, node_id) == "pending"
    with db.session() as s:
        event = s.scalars(select(NodeEvent).where(NodeEvent.action == "reprovision")).one()
    assert event.details["approval"] == {"id": approval_id, "requested_by": "operator", "approved_by": "second-admin"}
    assert "archived" in event.details
    again = client.post(f"/api/v1/approvals/{approval_id}/approve", json={})
    assert again.status_code == 409 and again.get_json()["code"] == "approval_decided"
    actions = [e["action"] for e in client.get("/api/v1/audit?order_by=seq").get_json()["results"]]
    assert actions.index("approval.request") < actions.index("approval.approve") < actions.index("approval.execute")


def test_deny_is_recorded_and_never_executes(client, client_as, db):
    node_id = _active_node(client, db)
    approval_id = client_as("operator").patch(f"/api/v1/nodes/{node_id}/state",
                                              json={"state": "migrating"}).get_json()["id"]
    denied = client.post(f"/api/v1/approvals/{approval_id}/deny", json={"comment": "not today"})
    assert denied.status_code == 200
    assert denied.get_json()["status"] == "denied" and denied.get_json()["comment"] == "not today"
    assert client.post(f"/api/v1/approvals/{approval_id}/approve", json={}).status_code == 409
    assert _state(db, node_id) == "active"


def test_expired_request_never_executes_and_is_marked_expired(client, client_as, db):
    node_id = _active_node(client, db)
    approval_id = client_as("operator").patch(f"/api/v1/nodes/{node_id}/state",
                                              json={"state": "deprovisioning"}).get_json()["id"]
    with db.session() as s:
        s.execute(update(Approval).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.post(f"/api/v1/approvals/{approval_id}/approve", json={})
    assert response.status_code == 409 and response.get_json()["code"] == "approval_expired"
    assert client.get(f"/api/v1/approvals/{approval_id}").get_json()["status"] == "expired"
    assert _state(db, node_id) == "active"


def test_window_defaults_to_one_hour_and_is_configurable_per_action(app, client, db):
    node_id = _active_node(client, db)
    body = client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "pending"}).get_json()
    with db.session() as s:
        row = s.get(Approval, body["id"])
        assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(approval_windows="node.migrate=120")
    body = client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "migrating"}).get_json()
    with db.session() as s:
        row = s.get(Approval, body["id"])
        assert row.expires_at - row.created_at == timedelta(seconds=120)


def test_dry_run_creates_nothing(client, db):
    node_id = _active_node(client, db)
    plan = client.post("/api/v1/approvals?dry_run=true", json={
        "action": "node.deprovision", "target_id": str(node_id), "reason": "end of life"})
    assert plan.status_code == 200
    assert plan.get_json()["dry_run"] is True and plan.get_json()["approval_required"] is True
    assert "active -> deprovisioning" in plan.get_json()["summary"]
    state_plan = client.patch(f"/api/v1/nodes/{node_id}/state?dry_run=true", json={"state": "retired"})
    assert state_plan.status_code == 200 and state_plan.get_json()["approval_required"] is False
    assert _state(db, node_id) == "active"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Approval)) == 0
    impossible = client.post("/api/v1/approvals", json={"action": "node.migrate", "target_id": "999", "reason": "x"})
    assert impossible.status_code == 404


def test_request_through_approvals_endpoint_and_cancel(client, client_as, db):
    node_id = _active_node(client, db)
    operator = client_as("operator")
    created = operator.post("/api/v1/approvals", json={"action": "node.migrate", "target_id": str(node_id),
                                                        "reason": "new hardware"})
    assert created.status_code == 201
    assert client_as("user").post("/api/v1/approvals", json={
        "action": "node.migrate", "target_id": str(node_id), "reason": "x"}).status_code == 403
    assert operator.post(f"/api/v1/approvals/{created.get_json()['id']}/cancel").get_json()["status"] == "cancelled"
    bad = operator.post("/api/v1/approvals", json={"action": "node.retire", "target_id": str(node_id), "reason": "x"})
    assert bad.status_code == 422


def _approve_concurrently(app, approval_id, approvers):
    results, barrier = [], threading.Barrier(len(approvers))

    def run(name):
        with app.app_context():
            with app.extensions["pureboot.db"].sessions() as session:
                barrier.wait()
                try:
                    row = approvals.approve(session, approval_id, Principal(None, name, "admin", "jwt"))
                    results.append(row.status)
                except Exception as exc:  # noqa: BLE001 - the loser's Conflict is the point
                    results.append(type(exc).__name__)

    threads = [threading.Thread(target=run, args=(name,)) for name in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("approvers", [2, 4])
def test_simultaneous_approvals_execute_exactly_once(app, client, client_as, db, approvers):
    node_id = _active_node(client, db)
    approval_id = client_as("operator").patch(f"/api/v1/nodes/{node_id}/state",
                                              json={"state": "pending"}).get_json()["id"]
    results = _approve_concurrently(app, approval_id, [f"approver{i}" for i in range(approvers)])
    assert sorted(results) == ["Conflict"] * (approvers - 1) + ["executed"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(NodeEvent).where(NodeEvent.action == "reprovision")) == 1
        assert s.get(Node, node_id).state == "pending"


def test_state_dry_run_checks_guards_without_effects(client, db):
    node = client.post("/api/v1/nodes", json={"mac": "52:54:00:aa:00:09"}).get_json()
    refused = client.patch(f"/api/v1/nodes/{node['id']}/state?dry_run=true", json={"state": "pending"})
    assert refused.status_code == 422  # has_workflow guard: no workflow given
    assert client.patch(f"/api/v1/nodes/{node['id']}/state?dry_run=true",
                        json={"state": "active"}).status_code == 409  # not in the table
    wf = client.post("/api/v1/workflows", json={"name": "dry", "tasks": []}).get_json()
    plan = client.patch(f"/api/v1/nodes/{node['id']}/state?dry_run=true",
                        json={"state": "pending", "workflow_id": wf["id"]}).get_json()
    assert plan["action"] == "node.assign" and plan["approval_required"] is False
    with db.session() as s:
        row = s.get(Node, node["id"])
        assert row.state == "discovered" and row.workflow_id is None
        assert s.scalar(select(func.count()).select_from(NodeEvent)) == 1  # only the registration
