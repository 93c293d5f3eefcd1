"""Rate limits (429 in the standard error shape) and security headers."""

from tests.support.auth import ensure_user


def _login(client, username, ip):
    return client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-password"},
                       environ_base={"REMOTE_ADDR": ip})


def test_login_is_limited_per_ip_and_username(app, anon_client):
    ensure_user(app, "mallory-target", "user", "the-real-password")
    codes = [_login(anon_client, "mallory-target", "203.0.113.7").status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    limited = _login(anon_client, "mallory-target", "203.0.113.7")
    body = limited.get_json()
    assert limited.status_code == 429 and body["code"] == 429 and body["status"] == "Too Many Requests"
    assert "10 per 1 minute" in body["message"] and int(limited.headers["Retry-After"]) > 0
    # the same user from elsewhere, and another user from the same address, still get through
    assert _login(anon_client, "mallory-target", "203.0.113.8").status_code == 401
    assert _login(anon_client, "someone-else", "203.0.113.7").status_code == 401


def test_login_and_refresh_are_limited_per_ip_whatever_the_username(app, anon_client):
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(rate_limit_login_ip="15/minute")
    codes = [_login(anon_client, f"user{i}", "192.0.2.9").status_code for i in range(12)]
    codes += [anon_client.post("/api/v1/auth/refresh", json={"refresh_token": "x"},
                               environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code for _ in range(4)]
    assert codes == [401] * 15 + [429]


def test_boot_storm_is_limited_per_source_and_known_macs_keep_booting(app, client, anon_client):
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(rate_limit_boot="20/minute",
                                                                   rate_limit_boot_known="100/minute")
    workflow = client.post("/api/v1/workflows", json={"name": "wf", "tasks": []}).get_json()
    known = client.post("/api/v1/nodes", json={"mac": "52:54:00:cc:00:01", "workflow_id": workflow["id"]})
    assert known.get_json()["state"] == "pending"
    storm = [anon_client.get(f"/api/v1/next?mac=02:00:00:00:{i // 256:02x}:{i % 256:02x}",
                             environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code for i in range(25)]
    assert 429 not in storm[:20] and storm[20:] == [429] * 5
    # another source is unaffected; the known node behind the storming relay still boots
    assert anon_client.get("/api/v1/next?mac=02:00:00:00:99:99",
                           environ_base={"REMOTE_ADDR": "198.51.100.2"}).status_code != 429
    known = [anon_client.get("/api/v1/next?mac=52-54-00-CC-00-01", environ_base={"REMOTE_ADDR": "198.51.100.1"})
             for _ in range(30)]
    assert all(r.status_code != 429 for r in known)
    for path in ("/boot/ipxe?mac=02:00:00:00:00:01", "/api/v1/report"):  # the whole open family counts
        assert anon_client.get(path, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 429


def test_security_headers_on_api_and_docs(client, anon_client):
    api = client.get("/api/v1/nodes")
    for name, value in (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                        ("Referrer-Policy", "no-referrer")):
        assert api.headers[name] == value
    assert "default-src 'none'" in api.headers["Content-Security-Policy"]
    docs = anon_client.get("/api/v1/docs")
    assert docs.status_code == 200
    csp = docs.headers["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in csp and "frame-ancestors 'none'" in csp
    assert "https:" not in csp  # Swagger UI assets are local, no CDN allowed
    assert anon_client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
    login = anon_client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert login.headers["Cache-Control"] == "no-store"


def test_boot_services_are_exempt_from_the_per_address_boot_limit(app, anon_client):
    app.config["PUREBOOT"] = app.config["PUREBOOT"].with_overrides(rate_limit_boot="5/minute",
                                                                   boot_services="127.0.0.1,203.0.113.0/24")
    relay = [anon_client.get(f"/api/v1/boot/dhcp?mac=02:00:00:00:01:{i:02x}",
                             environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code for i in range(12)]
    assert 429 not in relay  # one boot service answering for a whole site
    other = [anon_client.get(f"/api/v1/boot/dhcp?mac=02:00:00:00:02:{i:02x}",
                             environ_base={"REMOTE_ADDR": "198.51.100.3"}).status_code for i in range(7)]
    assert other[5:] == [429, 429]
