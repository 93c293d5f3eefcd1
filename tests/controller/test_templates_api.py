"""Templates: metadata, streamed uploads with sha256 and size, downloads, immutability."""

from __future__ import annotations

import hashlib
import io
import os

from .helpers import ok

PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)  # spans several upload chunks
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def _files(app):
    root = app.config["PUREBOOT"].templates_dir
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_raw_streamed_upload_computes_checksum_and_size(client, app):
    created = ok(client.post(f"/api/v1/templates?name=debian&kind=raw&version=12&sha256={SHA}",
                             data=PAYLOAD, content_type="application/octet-stream"), 201)
    assert (created["sha256"], created["size"], created["stored"]) == (SHA, len(PAYLOAD), True)
    download = client.get(created["download_url"])
    assert download.status_code == 200 and download.data == PAYLOAD
    assert download.headers["X-Checksum-Sha256"] == SHA


def test_download_supports_ranges_for_resume(client):
    created = ok(client.post("/api/v1/templates?name=img&kind=raw", data=PAYLOAD,
                             content_type="application/octet-stream"), 201)
    partial = client.get(created["download_url"], headers={"Range": "bytes=1000-1999"})
    assert partial.status_code == 206 and partial.data == PAYLOAD[1000:2000]


def test_checksum_mismatch_leaves_no_row_and_no_file(client, app):
    body = ok(client.post(f"/api/v1/templates?name=bad&kind=raw&sha256={'0' * 64}", data=PAYLOAD,
                          content_type="application/octet-stream"), 422)
    assert "sha256" in body["errors"]
    assert ok(client.get("/api/v1/templates"))["count"] == 0
    assert _files(app) == []


def test_multipart_upload(client):
    data = {"name": "cfg", "kind": "config", "file": (io.BytesIO(b"hello: world\n"), "seed.yaml")}
    created = ok(client.post("/api/v1/templates", data=data, content_type="multipart/form-data"), 201)
    assert created["filename"] == "seed.yaml" and created["size"] == 13
    assert client.get(created["download_url"]).data == b"hello: world\n"


def test_metadata_then_put_content_then_immutable(client):
    meta = ok(client.post("/api/v1/templates", json={"name": "win", "kind": "wim", "version": "2022",
                                                     "sha256": SHA}), 201)
    assert meta["stored"] is False and meta["download_url"] is None
    ok(client.get(f"{meta['url']}/content"), 404)
    stored = ok(client.put(f"{meta['url']}/content", data=PAYLOAD, content_type="application/octet-stream"))
    assert stored["stored"] is True and stored["size"] == len(PAYLOAD)
    ok(client.put(f"{meta['url']}/content", data=b"other", content_type="application/octet-stream"), 409)


def test_name_version_unique_and_validation(client):
    ok(client.post("/api/v1/templates", json={"name": "a", "kind": "qcow2"}), 201)
    ok(client.post("/api/v1/templates", json={"name": "a", "kind": "qcow2"}), 409)
    errors = ok(client.post("/api/v1/templates", json={"name": "../x", "kind": "exe", "sha256": "zz"}), 422)["errors"]
    assert set(errors) == {"name", "kind", "sha256"}
    ok(client.post("/api/v1/templates?name=e&kind=raw", data=b"", content_type="application/octet-stream"), 422)
    assert ok(client.get("/api/v1/templates?kind=qcow2"))["count"] == 1


def test_filename_cannot_escape_the_store(client, app):
    created = ok(client.post("/api/v1/templates?name=t&kind=raw&filename=../../etc/passwd", data=b"x",
                             content_type="application/octet-stream"), 201)
    assert created["filename"] == "passwd"
    assert _files(app) == [f"{created['id']}/passwd"]


def test_delete_removes_the_file(client, app):
    created = ok(client.post("/api/v1/templates?name=d&kind=raw", data=b"abc",
                             content_type="application/octet-stream"), 201)
    assert client.delete(created["url"]).status_code == 204
    assert _files(app) == [] and ok(client.get(created["url"]), 404)
