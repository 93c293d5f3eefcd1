"""Watchdog: installing too long -> failed with the reason; thread and CLI."""

import time
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from pureboot.cli import main
from pureboot.models import Node, NodeEvent, utcnow
from pureboot.services.watchdog import Watchdog, run_once

from .conftest import bearer, installing_node, register


def _age(db, node_id, seconds):
    with db.session() as session:
        session.get(Node, node_id).state_changed_at = utcnow() - timedelta(seconds=seconds)


def _node(db, node_id):
    with db.session() as session:
        return session.get(Node, node_id)


def test_sweep_fails_only_stale_installs(client, db, workflow):
    stale, token = installing_node(client, workflow, "52:54:00:00:00:01")
    fresh, _ = installing_node(client, workflow, "52:54:00:00:00:02")
    _age(db, stale["id"], 1801)
    _age(db, fresh["id"], 1700)
    assert run_once(db, 1800) == [stale["id"]]
    node = _node(db, stale["id"])
    assert node.state == "failed" and "watchdog" in node.state_reason and node.install_token_hash is None
    assert _node(db, fresh["id"]).state == "installing"
    with db.session() as session:
        event = session.scalars(select(NodeEvent).where(NodeEvent.to_state == "failed")).one()
        assert event.actor == "watchdog" and "install_timeout 1800 s" in event.reason
    # the failed install's token is dead
    assert client.post("/api/v1/report", headers=bearer(token), json={"status": "installed"}).status_code == 401
    assert run_once(db, 1800) == []  # idempotent


def test_background_thread_fails_stuck_node(client, db, workflow):
    node, _ = installing_node(client, workflow)
    _age(db, node["id"], 10)
    thread = Watchdog(db, timeout=5, interval=0.1)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while _node(db, node["id"]).state != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()
        thread.join(5)
    assert _node(db, node["id"]).state == "failed"


def test_cli_once(client, db, workflow, settings, monkeypatch):
    node, _ = installing_node(client, workflow)
    _age(db, node["id"], 120)
    monkeypatch.setenv("PUREBOOT_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("PUREBOOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PUREBOOT_INSTALL_TIMEOUT", "60")
    result = CliRunner().invoke(main, ["watchdog", "--once"])
    assert result.exit_code == 0, result.output
    assert f"[{node['id']}]" in result.output
    assert _node(db, node["id"]).state == "failed"


def test_other_states_untouched(client, db, workflow):
    node = register(client, "52:54:00:00:00:09", workflow["id"])
    _age(db, node["id"], 100000)
    assert run_once(db, 1) == []
    assert _node(db, node["id"]).state == "pending"


def test_served_controller_runs_the_watchdog_thread(tmp_path):
    """`pureboot serve` itself fails a stuck install (thread in the worker process)."""
    from .procs import Controller
    controller = Controller(tmp_path / "data", install_timeout=2, watchdog_interval=1)
    try:
        workflow = controller.api("POST", "/api/v1/workflows", json={
            "name": "wd", "tasks": [{"type": "pxe_boot", "kernel": "k"}]}).json()
        node = controller.api("POST", "/api/v1/nodes", json={"mac": "52:54:00:0d:0d:01",
                                                             "workflow_id": workflow["id"]}).json()
        assert controller.api("GET", "/api/v1/next?mac=52:54:00:0d:0d:01").json()["state"] == "installing"
        deadline = time.monotonic() + 20
        state = None
        while time.monotonic() < deadline:
            state = controller.api("GET", f"/api/v1/nodes/{node['id']}").json()
            if state["state"] == "failed":
                break
            time.sleep(0.5)
        assert state["state"] == "failed" and "watchdog" in state["state_reason"]
    finally:
        controller.stop()
