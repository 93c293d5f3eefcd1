"""The spec and its UI are served locally (air-gapped sites)."""


def test_openapi_document_lists_the_resources(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/nodes", "/api/v1/nodes/{node_id}/state", "/api/v1/workflows", "/api/v1/templates",
                 "/api/v1/hypervisors", "/api/v1/ping"):
        assert path in spec["paths"], path
    params = {p["name"] for p in spec["paths"]["/api/v1/nodes"]["get"]["parameters"]}
    assert {"page", "page_size", "order_by", "state", "hostname__icontains"} <= params


def test_swagger_ui_needs_no_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html and "//cdn" not in html and "unpkg" not in html
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
