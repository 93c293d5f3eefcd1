"""AWX-style lists: envelope, pagination, order_by, filters."""

from __future__ import annotations

from .helpers import make_node, make_workflow, ok


def _seed(client, count=7):
    for i in range(count):
        make_node(client, f"52:54:00:00:01:{i:02x}", hostname=f"node{i}", site="lab" if i % 2 else "dc",
                  tags=["even"] if i % 2 == 0 else ["odd"])


def test_envelope_and_page_links(client):
    _seed(client)
    first = ok(client.get("/api/v1/nodes?page_size=3&site=lab"))
    assert first["count"] == 3 and first["next"] is None and first["previous"] is None
    page1 = ok(client.get("/api/v1/nodes?page_size=3"))
    assert page1["count"] == 7 and len(page1["results"]) == 3 and page1["previous"] is None
    assert "page=2" in page1["next"] and "page_size=3" in page1["next"]
    page3 = ok(client.get(page1["next"].replace("page=2", "page=3")))
    assert len(page3["results"]) == 1 and page3["next"] is None and "page=2" in page3["previous"]
    ids = [n["id"] for p in (1, 2, 3) for n in ok(client.get(f"/api/v1/nodes?page_size=3&page={p}"))["results"]]
    assert len(set(ids)) == 7


def test_page_limits(client):
    _seed(client, 2)
    assert "page_size" in ok(client.get("/api/v1/nodes?page_size=201"), 422)["errors"]
    assert "page" in ok(client.get("/api/v1/nodes?page=0"), 422)["errors"]
    ok(client.get("/api/v1/nodes?page=9"), 404)
    assert ok(client.get("/api/v1/nodes?page_size=200"))["count"] == 2


def test_order_by(client):
    _seed(client, 4)
    names = [n["hostname"] for n in ok(client.get("/api/v1/nodes?order_by=-hostname"))["results"]]
    assert names == ["node3", "node2", "node1", "node0"]
    mixed = [n["hostname"] for n in ok(client.get("/api/v1/nodes?order_by=site,-hostname"))["results"]]
    assert mixed == ["node2", "node0", "node3", "node1"]
    assert "order_by" in ok(client.get("/api/v1/nodes?order_by=password"), 422)["errors"]


def test_filters(client):
    _seed(client)
    workflow = make_workflow(client)
    ok(client.patch("/api/v1/nodes/1", json={"workflow_id": workflow["id"]}))
    count = lambda q: ok(client.get(f"/api/v1/nodes?{q}"))["count"]  # noqa: E731
    assert count("hostname__icontains=NODE") == 7
    assert count("hostname=node3") == 1
    assert count("mac=52-54-00-00-01-03") == 1  # filters normalise MACs too
    assert count("state=discovered") == 7 and count("state__in=pending,active") == 0
    assert count("site__in=lab,dc") == 7 and count("site=lab&hostname=node1") == 1
    assert count("tag=odd") == 3 and count("tag=even") == 4
    assert count(f"workflow={workflow['id']}") == 1 and count("workflow__isnull=true") == 6
    assert count("hostname__icontains=%") == 0  # LIKE wildcards are escaped
    errors = ok(client.get("/api/v1/nodes?colour=red"), 422)["errors"]
    assert "colour" in errors
    assert "state" in ok(client.get("/api/v1/nodes?state=bogus"), 422)["errors"]
