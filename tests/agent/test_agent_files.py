"""GET /boot/agent/<file>: only the built agent's files, with Range support."""

from __future__ import annotations

from pathlib import Path

from pureboot.agent.builder import agent_dir


def test_not_built_yet_is_404(client):
    resp = client.get("/boot/agent/vmlinuz")
    assert resp.status_code == 404
    assert "pureboot agent build" in resp.json["message"]


def test_serves_built_files_with_ranges(client, settings):
    folder = agent_dir(settings.data_dir)
    folder.mkdir(parents=True)
    (folder / "vmlinuz").write_bytes(b"K" * 1000)
    (folder / "initrd.img").write_bytes(bytes(range(256)) * 4)
    (folder / "manifest.json").write_text('{"version": "1"}')
    assert client.get("/boot/agent/vmlinuz").data == b"K" * 1000
    part = client.get("/boot/agent/initrd.img", headers={"Range": "bytes=256-259"})
    assert part.status_code == 206 and part.data == bytes([0, 1, 2, 3])
    manifest = client.get("/boot/agent/manifest.json")
    assert manifest.status_code == 200 and manifest.json == {"version": "1"}


def test_only_agent_files_are_served(client, settings):
    folder = agent_dir(settings.data_dir)
    folder.mkdir(parents=True)
    (folder / "secret").write_text("no")
    Path(settings.data_dir, "secret_key").write_text("s")
    for name in ("secret", "..%2Fsecret_key", "%2E%2E"):
        assert client.get(f"/boot/agent/{name}").status_code == 404
