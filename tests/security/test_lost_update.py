"""Lost updates: ETag on single-object reads and writes, If-Match on PATCH and DELETE.

Every test runs for nodes, workflows, templates and hypervisors, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text

from pureboot.api import etag
from tests.controller.helpers import WORKFLOW, ok


@dataclass(frozen=True)
class Resource:
    path: str
    table: str
    create: dict
    deleted_status: int  # a node is retired (200, kept), the others are removed (204)


RESOURCES = {
    "node": Resource("/api/v1/nodes", "nodes", {"mac": "52:54:00:00:11:01", "description": "v0"}, 200),
    "workflow": Resource("/api/v1/workflows", "workflows", {**WORKFLOW, "description": "v0"}, 204),
    "template": Resource("/api/v1/templates", "templates", {"name": "img", "kind": "raw", "description": "v0"},
                         204),
    "hypervisor": Resource("/api/v1/hypervisors", "hypervisors",
                           {"name": "kvm", "provider": "libvirt", "endpoint": "qemu:///system",
                            "description": "v0"}, 204),
}


@pytest.fixture(params=sorted(RESOURCES))
def resource(request):
    return RESOURCES[request.param]


def _create(client, resource: Resource) -> tuple[str, str]:
    """The new object's URL and the ETag its POST answered with."""
    response = client.post(resource.path, json=resource.create)
    body = ok(response, 201)
    return f"{resource.path}/{body['id']}", response.headers["ETag"]


def _etag(client, url: str) -> str:
    response = client.get(url)
    ok(response)
    return response.headers["ETag"]


def _patch(client, url: str, description: str, if_match: str | None = None):
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.patch(url, json={"description": description}, headers=headers)


def _still_there(client, resource: Resource, url: str) -> dict:
    body = ok(client.get(url))
    if resource.table == "nodes":
        assert body["state"] != "retired"
    return body


def test_reads_and_writes_carry_the_etag(client, resource):
    url, created = _create(client, resource)
    assert created.startswith('"') and created.endswith('"') and not created.startswith("W/")
    assert _etag(client, url) == created
    changed = _patch(client, url, "v1")
    ok(changed)
    assert changed.headers["ETag"] != created and changed.headers["ETag"] == _etag(client, url)


def test_stale_if_match_is_412_and_leaves_the_row_unchanged(client, resource):
    url, stale = _create(client, resource)
    ok(_patch(client, url, "v1"))
    current = _etag(client, url)
    refused = _patch(client, url, "lost", if_match=stale)
    body = ok(refused, 412)
    assert body["code"] == 412 and body["status"] == "Precondition Failed"
    assert body["etag"] == current and current in body["message"]
    assert ok(client.get(url))["description"] == "v1" and _etag(client, url) == current


def test_matching_if_match_writes_and_gives_a_new_etag(client, resource):
    url, current = _create(client, resource)
    accepted = _patch(client, url, "v1", if_match=current)
    assert ok(accepted)["description"] == "v1"
    assert accepted.headers["ETag"] != current
    listed = _patch(client, url, "v2", if_match=f'"0-0", {accepted.headers["ETag"]}')  # any of a list
    assert ok(listed)["description"] == "v2"


def test_star_matches_any_version_and_no_header_behaves_as_before(client, resource):
    url, _ = _create(client, resource)
    assert ok(_patch(client, url, "v1", if_match="*"))["description"] == "v1"
    assert ok(_patch(client, url, "v2"))["description"] == "v2"


def test_weak_or_foreign_tags_do_not_match(client, resource):
    url, current = _create(client, resource)
    ok(_patch(client, url, "lost", if_match="W/" + current), 412)  # If-Match compares strongly
    ok(_patch(client, url, "lost", if_match='"garbage"'), 412)
    assert ok(client.get(url))["description"] == "v0"


def test_delete_with_stale_if_match_is_412_and_the_object_stays(client, resource):
    url, stale = _create(client, resource)
    ok(_patch(client, url, "v1"))
    body = ok(client.delete(url, headers={"If-Match": stale}), 412)
    assert body["etag"] == _etag(client, url)
    _still_there(client, resource, url)
    current = _etag(client, url)
    assert client.delete(url, headers={"If-Match": current}).status_code == resource.deleted_status


def test_delete_with_star(client, resource):
    url, _ = _create(client, resource)
    assert client.delete(url, headers={"If-Match": "*"}).status_code == resource.deleted_status


def _bump_after_check(monkeypatch, db, resource: Resource) -> None:
    """Another writer commits right after the If-Match check passed: the race window."""
    real_check = etag.check

    def check_then_other_writer(row):
        real_check(row)
        with db.engine.begin() as conn:
            conn.execute(text(f"UPDATE {resource.table} SET description = 'other', "
                              f"lock_version = lock_version + 1 WHERE id = :id"), {"id": row.id})

    monkeypatch.setattr(etag, "check", check_then_other_writer)


def test_concurrent_change_after_the_check_is_412_not_an_overwrite(client, db, resource, monkeypatch):
    url, current = _create(client, resource)
    _bump_after_check(monkeypatch, db, resource)
    body = ok(_patch(client, url, "mine", if_match=current), 412)
    monkeypatch.undo()
    assert ok(client.get(url))["description"] == "other"
    assert body["etag"] == _etag(client, url) != current


def test_concurrent_delete_race_is_412_and_the_object_stays(client, db, resource, monkeypatch):
    url, current = _create(client, resource)
    _bump_after_check(monkeypatch, db, resource)
    ok(client.delete(url, headers={"If-Match": current}), 412)
    monkeypatch.undo()
    assert _still_there(client, resource, url)["description"] == "other"


def test_concurrent_change_without_if_match_is_409_never_500(client, db, resource, monkeypatch):
    url, _ = _create(client, resource)
    _bump_after_check(monkeypatch, db, resource)
    body = ok(_patch(client, url, "mine"), 409)
    assert body["code"] == "concurrent_update"
    monkeypatch.undo()
    assert ok(client.get(url))["description"] == "other"


@pytest.mark.parametrize("path", [r.path + "/{id}" for r in RESOURCES.values()])
def test_openapi_documents_etag_if_match_and_412(client, path):
    name = path.split("/")[3][:-1]
    operations = client.get("/api/v1/openapi.json").get_json()["paths"][path.replace("{id}", f"{{{name}_id}}")]
    assert "ETag" in operations["get"]["responses"]["200"]["headers"]
    assert "ETag" in operations["patch"]["responses"]["200"]["headers"]
    for method in ("patch", "delete"):
        headers = [p for p in operations[method].get("parameters", []) if p["in"] == "header"]
        assert [p["name"] for p in headers] == ["If-Match"] and headers[0]["required"] is False
        assert "412" in operations[method]["responses"]
