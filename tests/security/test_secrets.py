"""Secrets: Fernet at rest, write-only in the API, never in logs; rotation; credentials four-eye."""

import json
import logging
import os
import stat
import threading

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from pureboot.models import Base, Credential, Hypervisor, NodeKey, Webhook
from pureboot.secrets import SecretBox, SecretError, encrypted_columns, key_file, load_keys

PLANTED = "PLANTED-s3cr3t-7f1c9a"


def _walk_api(client) -> str:
    """Every response body a client can read that could echo a secret."""
    paths = ["/api/v1/hypervisors", "/api/v1/hypervisors/1", "/api/v1/credentials", "/api/v1/credentials/1",
             "/api/v1/approvals", "/api/v1/audit?page_size=200", "/api/v1/me", "/api/v1/users"]
    return "\n".join(client.get(p).get_data(as_text=True) for p in paths)


def test_planted_secret_never_leaves_the_server(app, client, client_as, db, caplog, settings):
    caplog.set_level(logging.DEBUG)
    log_file = os.path.join(settings.data_dir, "controller.log")
    handler = logging.FileHandler(log_file)
    logging.getLogger().addHandler(handler)
    try:
        bodies = [
            client.post("/api/v1/hypervisors", json={"name": "pve", "provider": "proxmox",
                                                     "endpoint": "https://pve:8006", "password": PLANTED}),
            client.post("/api/v1/credentials", json={"name": "join", "kind": "domain_join", "username": "svc",
                                                     "secrets": {"password": PLANTED}}),
            client.patch("/api/v1/credentials/1", json={"secrets": {"password": PLANTED + "-new"}}),
            client.patch("/api/v1/hypervisors/1", json={"password": PLANTED + "-new"}),
            client.post("/api/v1/credentials", json={"name": "bad", "kind": "bmc", "secrets": {"token": PLANTED}}),
            client.post("/api/v1/hypervisors", json={"name": "pve", "provider": "proxmox",
                                                     "endpoint": "x", "password": PLANTED}),
        ]
        assert [r.status_code for r in bodies] == [201, 201, 202, 202, 422, 409]
        assert bodies[0].get_json()["has_password"] is True and "password" not in bodies[0].get_json()
        assert bodies[1].get_json()["secret_fields"] == ["password"]
        # the approver executes both secret changes
        approver = client_as("admin", "second-admin")
        for approval in client.get("/api/v1/approvals").get_json()["results"]:
            decided = approver.post(f"/api/v1/approvals/{approval['id']}/approve", json={})
            assert decided.get_json()["status"] == "executed"
        everything = "\n".join(r.get_data(as_text=True) for r in bodies) + _walk_api(client)
        everything += _walk_api(client_as("auditor"))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert PLANTED not in everything
    assert PLANTED not in caplog.text
    with open(log_file) as fh:
        assert PLANTED not in fh.read()
    # at rest: ciphertext only, and it decrypts to the new values
    with db.engine.connect() as conn:
        dump = json.dumps([list(map(str, row)) for table in ("hypervisors", "credentials", "approvals")
                           for row in conn.execute(text(f"SELECT * FROM {table}"))])
    assert PLANTED not in dump
    secret_box = SecretBox.for_settings(settings)
    with db.session() as s:
        assert secret_box.decrypt(s.get(Hypervisor, 1).password_encrypted) == PLANTED + "-new"
        assert secret_box.decrypt_json(s.get(Credential, 1).secret_encrypted) == {"password": PLANTED + "-new"}


def _installing_node(client) -> int:
    """A node that started installing: it has an ephemeral install key pair."""
    workflow = client.post("/api/v1/workflows", json={"name": "wf", "tasks": [{"type": "inventory"}]})
    assert workflow.status_code == 201, workflow.get_json()
    node = client.post("/api/v1/nodes", json={"mac": "52:54:00:7e:00:01", "hostname": "n1",
                                              "workflow_id": workflow.get_json()["id"]})
    node_id = node.get_json()["id"]
    assert client.patch(f"/api/v1/nodes/{node_id}/state", json={"state": "installing"}).status_code == 200
    return node_id


def test_webhook_secret_and_install_key_are_write_only_and_encrypted(app, client, client_as, db, caplog, settings):
    caplog.set_level(logging.DEBUG)
    bodies = [client.post("/api/v1/webhooks", json={"name": "ops", "url": "http://127.0.0.1:9/h", "secret": PLANTED}),
              client.patch("/api/v1/webhooks/1", json={"secret": PLANTED + "-new"})]
    assert [r.status_code for r in bodies] == [201, 200]
    assert bodies[1].get_json()["has_secret"] is True
    node_id = _installing_node(client)
    paths = ["/api/v1/webhooks", "/api/v1/webhooks/1", "/api/v1/nodes", f"/api/v1/nodes/{node_id}",
             f"/api/v1/nodes/{node_id}/events", "/api/v1/audit?page_size=200"]
    everything = "\n".join(r.get_data(as_text=True) for r in bodies)
    everything += "\n".join(c.get(p).get_data(as_text=True) for c in (client, client_as("auditor")) for p in paths)
    with db.session() as s:
        key = s.scalar(select(NodeKey).where(NodeKey.node_id == node_id))
        hook = s.get(Webhook, 1)
        private = SecretBox.for_settings(settings).decrypt(key.private_key_encrypted)
        assert SecretBox.for_settings(settings).decrypt(hook.secret_encrypted) == PLANTED + "-new"
    assert "BEGIN OPENSSH PRIVATE KEY" in private
    body_line = private.splitlines()[1]
    for seen in (everything, caplog.text):
        assert PLANTED not in seen and "PRIVATE KEY" not in seen and body_line not in seen
    # at rest: Fernet tokens, not the plain text
    with db.engine.connect() as conn:
        rows = [row for table in ("webhooks", "node_keys") for row in conn.execute(text(f"SELECT * FROM {table}"))]
    dump = json.dumps([[bytes(v).decode() if isinstance(v, (bytes, memoryview)) else str(v) for v in row]
                       for row in rows])
    assert PLANTED not in dump and "PRIVATE KEY" not in dump and body_line not in dump
    assert dump.count("gAAAAA") == 2  # two Fernet tokens (version byte 0x80 + timestamp)


def test_every_encrypted_column_is_rotated():
    """A *_encrypted column missing from encrypted_columns() would be lost by `rotate --drop-old`."""
    listed = {(model.__tablename__, column) for model, column in encrypted_columns()}
    declared = {(table.name, column.name) for table in Base.metadata.sorted_tables for column in table.columns
                if column.name.endswith("_encrypted")}
    assert declared == listed and ("webhooks", "secret_encrypted") in listed
    assert ("node_keys", "private_key_encrypted") in listed


def test_credential_secret_change_is_four_eye(client, db):
    client.post("/api/v1/credentials", json={"name": "bmc1", "kind": "bmc", "secrets": {"password": "old-pass"}})
    requested = client.patch("/api/v1/credentials/1", json={"secrets": {"password": "new-pass"}, "reason": "rotate"})
    assert requested.status_code == 202 and requested.get_json()["has_secret_payload"] is True
    assert client.post(f"/api/v1/approvals/{requested.get_json()['id']}/approve", json={}).status_code == 403
    # metadata changes are immediate
    assert client.patch("/api/v1/credentials/1", json={"description": "rack 4"}).get_json()["description"] == "rack 4"
    deleted = client.delete("/api/v1/credentials/1")
    assert deleted.status_code == 202 and deleted.get_json()["action"] == "credential.delete"
    assert client.get("/api/v1/credentials/1").status_code == 200


def test_key_file_is_private_and_env_keys_win(settings):
    keys = load_keys(settings)
    mode = stat.S_IMODE(os.stat(key_file(settings)).st_mode)
    assert len(keys) == 1 and mode == 0o600
    env_key = Fernet.generate_key().decode()
    assert load_keys(settings.with_overrides(secret_keys=f"{env_key},{keys[0]}")) == [env_key, keys[0]]


def test_first_use_by_racing_workers_makes_one_key(tmp_path):
    """Workers starting together on a fresh data directory must agree on one key."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from pureboot.config import Settings

    settings = replace(Settings(), data_dir=str(tmp_path), secret_keys="")
    barrier = threading.Barrier(16)

    def first_use(_):
        barrier.wait()
        return tuple(load_keys(settings))

    with ThreadPoolExecutor(16) as pool:
        rings = set(pool.map(first_use, range(16)))
    assert len(rings) == 1 and len(next(iter(rings))) == 1
    assert [p.name for p in tmp_path.iterdir()] == [key_file(settings).name]  # no temp files left


def test_rotate_reencrypts_everything_and_old_key_can_go(app, client, db, settings, monkeypatch):
    client.post("/api/v1/hypervisors", json={"name": "h", "provider": "libvirt", "endpoint": "qemu:///system",
                                             "password": "hv-pass"})
    client.post("/api/v1/credentials", json={"name": "k", "kind": "ssh_key",
                                             "secrets": {"private_key": "-----BEGIN KEY-----"}})
    client.post("/api/v1/webhooks", json={"name": "w", "url": "http://127.0.0.1:9/h", "secret": "hook-secret"})
    node_id = _installing_node(client)
    old_key = load_keys(settings)[0]
    old_box = SecretBox([old_key])
    with db.session() as s:
        before = s.get(Hypervisor, 1).password_encrypted
        install_key = old_box.decrypt(s.scalar(select(NodeKey.private_key_encrypted)))
    monkeypatch.setenv("PUREBOOT_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("PUREBOOT_DATABASE_URL", settings.database_url)
    from pureboot.cli import main
    result = CliRunner().invoke(main, ["secrets", "rotate", "--drop-old"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 4 secret(s)" in result.output
    keys = load_keys(settings)
    assert len(keys) == 1 and keys[0] != old_key
    new_box = SecretBox(keys)
    with db.session() as s:
        row = s.get(Hypervisor, 1)
        assert row.password_encrypted != before and new_box.decrypt(row.password_encrypted) == "hv-pass"
        cred = s.scalars(select(Credential)).one()
        assert new_box.decrypt_json(cred.secret_encrypted) == {"private_key": "-----BEGIN KEY-----"}
        hook = s.get(Webhook, 1).secret_encrypted
        node_key = s.scalar(select(NodeKey.private_key_encrypted).where(NodeKey.node_id == node_id))
        assert new_box.decrypt(hook) == "hook-secret" and new_box.decrypt(node_key) == install_key
        assert isinstance(hook, bytes) and isinstance(node_key, bytes)  # the column type is kept
        for token in (hook, node_key, row.password_encrypted):
            with pytest.raises(SecretError):  # the old key alone no longer opens anything
                old_box.decrypt(token)


def test_redactor_masks_secrets_in_job_output():
    from pureboot.secrets import Redactor
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    redact = Redactor([PLANTED, key, "abc", None])
    out = redact(f"TASK [join]\nusing {PLANTED} ok\n{key}\nline b3BlbnNzaC1rZXktdjEAAAAA leaked\nabc stays")
    assert PLANTED not in out and "b3BlbnNzaC1rZXktdjEAAAAA" not in out
    assert out.count(Redactor.MASK) >= 3 and "abc stays" in out



def test_redaction_of_events_covers_escaped_nested_and_secret_named_vars():
    from pureboot.jobs.redaction import redact_data, secret_vars
    from pureboot.secrets import Redactor
    extravars = {"greeting": "hello", "bmc": {"password": 'pa"ss\\word-1', "user": "root"},
                 "api_tokens": ["tok-aaaa-1111", 12345678], "enabled_secret": True}
    found = secret_vars(extravars)
    assert sorted(found) == sorted(['pa"ss\\word-1', "tok-aaaa-1111", "12345678"])  # not "hello", not True
    redact = Redactor(found + [PLANTED])
    event = {"stdout": 'ok => {"password": "pa\\"ss\\\\word-1"}', "event_data": {
        "res": {"msg": ["tok-aaaa-1111", 12345678], PLANTED: "key"}, "task": f"use {PLANTED}"}}
    masked = json.dumps(redact_data(event, redact))
    for value in found + [PLANTED]:
        assert value not in masked and json.dumps(value)[1:-1] not in masked, value
    assert masked.count(Redactor.MASK) == 5 and "root" not in found
