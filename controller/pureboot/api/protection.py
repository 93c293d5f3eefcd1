"""Abuse protection and browser hardening: rate limits (Flask-Limiter) and security headers.

Limits (settings ``rate_limit_*``), answered with 429 in the standard error shape:
  * login (``POST /auth/token``): per source IP + username, and login + refresh per source IP
    (so rotating usernames does not help a password sprayer);
  * open boot endpoints: per source IP, except requests naming a *known* MAC (a node past
    ``discovered``, i.e. one somebody assigned), which count against that MAC's own, larger
    bucket so a storm of unknown clients behind the same relay cannot starve real nodes.
Storage is in memory by default (per process); set ``rate_limit_storage_url`` to a Redis
URL to share counters between gunicorn workers.
"""

from __future__ import annotations

import functools
import ipaddress
import logging

from flask import Flask, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.constants import ConfigVars
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from .. import rbac
from ..db import get_db
from ..deadline import within
from ..models import Node
from ..shared import mac

log = logging.getLogger("pureboot.api")

JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# The Swagger UI page initialises itself with an inline script; everything else is local.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def _category() -> str | None:
    if "rate_category" not in g:
        rule = request.url_rule.rule if request.url_rule is not None else request.path
        needed = rbac.required_permission(request.method, rule)
        g.rate_category = None
        if needed == rbac.LOGIN:
            g.rate_category = "login"
        elif needed == rbac.REFRESH:
            g.rate_category = "refresh"
        elif needed == rbac.BOOT:
            g.rate_category = "boot-known" if _known_mac() else "boot"
    return g.rate_category


@functools.lru_cache(maxsize=8)
def _networks(spec: str) -> tuple:
    networks = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            log.warning("boot_services: ignoring %r, not an address or network", item)
    return tuple(networks)


def from_boot_service() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in _networks(_settings().boot_services))


def _known_mac() -> str | None:
    raw = request.args.get("mac")
    if raw is None and request.is_json:
        body = request.get_json(silent=True)
        raw = body.get("mac") if isinstance(body, dict) else None
    try:
        mac_text = mac.normalize_mac(str(raw)) if raw else None
    except ValueError:
        return None
    if mac_text is None:
        return None
    database = get_db()

    def lookup() -> str | None:
        with database.sessions() as session:
            return session.scalar(select(Node.state).where(Node.mac == mac_text))

    state = within(_lookup_seconds(), lookup, None, f"known-MAC lookup of {mac_text}")
    # Nodes a storm registered itself (discovery) stay in the per-source bucket: "known"
    # means someone assigned the node (any state past discovered).
    if state is None or state == "discovered":
        return None
    g.known_mac = mac_text
    return mac_text


def _lookup_seconds() -> float:
    return max(0.05, min(0.25, _settings().boot_decision_timeout / 4))


def _login_key() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    username = body.get("username") if isinstance(body, dict) else None
    return f"{get_remote_address()}|{str(username)[:64] if username else '-'}"


def _settings():
    return current_app.config["PUREBOOT"]


def build_limiter(app: Flask) -> Limiter:
    settings = app.config["PUREBOOT"]
    app.config.setdefault(ConfigVars.ENABLED, settings.rate_limits_enabled)
    limits = [
        ApplicationLimit(limit_provider=lambda: _settings().rate_limit_login, key_function=_login_key,
                         scope="login", exempt_when=lambda: _category() != "login"),
        ApplicationLimit(limit_provider=lambda: _settings().rate_limit_login_ip, key_function=get_remote_address,
                         scope="login-ip", exempt_when=lambda: _category() not in ("login", "refresh")),
        ApplicationLimit(limit_provider=lambda: _settings().rate_limit_boot, key_function=get_remote_address,
                         scope="boot", exempt_when=lambda: _category() != "boot" or from_boot_service()),
        ApplicationLimit(limit_provider=lambda: _settings().rate_limit_boot_known,
                         key_function=lambda: g.get("known_mac") or "-",
                         scope="boot-known", exempt_when=lambda: _category() != "boot-known"),
    ]
    return Limiter(get_remote_address, app=app, application_limits=limits, headers_enabled=True,
                   storage_uri=settings.rate_limit_storage_url, key_prefix="pureboot",
                   strategy="moving-window",
                   # unrouted paths count too: a flood of /boot/<garbage> is still a flood
                   request_identifier=lambda: request.endpoint or "unrouted")


def security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    docs = request.path.startswith("/api/v1/docs")
    headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else JSON_CSP)
    if request.path.startswith(("/api/v1/auth/", "/api/v1/tokens", "/api/v1/me")):
        headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.extensions["pureboot.limiter"] = build_limiter(app)
    app.after_request(security_headers)
