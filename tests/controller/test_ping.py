def test_ping_reports_version_and_migrated_database(client):
    body = client.get("/api/v1/ping").get_json()
    assert body["version"]
    assert body["database"]["status"] == "ok"
    assert body["database"]["backend"] in ("sqlite", "postgresql")
