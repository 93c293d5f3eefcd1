"""The boot service's view of the controller: HTTP only, bounded time, cached answers.

Rule E answers are cached briefly (``cache_ttl``) so a PXE client's DISCOVER, REQUEST
and retries cost one controller call. Every MAC the controller has ever told us about
is remembered (last known state) for Rule D: when the controller does not answer
within ``timeout`` seconds, nodes last seen in a provisioning state are sent to their
local disk, and nothing else is answered.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

import requests

from .backoff import ErrorLog

log = logging.getLogger("pureboot.bootsvc")
PROVISIONING = frozenset({"discovered", "pending", "installing", "deprovisioning", "migrating"})


@dataclass(frozen=True)
class DhcpAnswer:
    serve: bool
    state: str | None
    reason: str
    offline: bool = False  # the controller did not answer: boot local (Rule D)


class ControllerClient:
    def __init__(self, base_url: str, *, timeout: float = 2.0, cache_ttl: float = 5.0,
                 ca_bundle: str | None = None):
        self.base_url = base_url.rstrip("/")
        # Per request, not session.verify: requests lets REQUESTS_CA_BUNDLE override the session's.
        self._verify = ca_bundle or True
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self._local = threading.local()  # one requests.Session per thread
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, DhcpAnswer]] = {}
        self._known: dict[str, str | None] = {}  # mac -> last state the controller gave
        self.health = ErrorLog(f"controller {self.base_url} (Rule D answers meanwhile)", log, healthy_after=0,
                               level=logging.WARNING, traceback=False)

    @property
    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["User-Agent"] = "pureboot-boot-service"
        return session

    def dhcp(self, mac: str, arch: int | None = None) -> DhcpAnswer:
        now = time.monotonic()
        with self._lock:
            cached = self._answers.get(mac)
            if cached and cached[0] > now:
                return cached[1]
        try:
            response = self._http.get(f"{self.base_url}/api/v1/boot/dhcp",
                                      params={"mac": mac, **({"arch": str(arch)} if arch is not None else {})},
                                      timeout=self.timeout, verify=self._verify)
            response.raise_for_status()
            body = response.json()
            answer = DhcpAnswer(bool(body["serve"]), body.get("state"), str(body.get("reason", "")))
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            return self._offline(mac, exc)
        self.health.ok()
        with self._lock:
            self._answers[mac] = (now + self.cache_ttl, answer)
            if body.get("known"):
                self._known[mac] = answer.state
            self._expire(now)
        return answer

    def _offline(self, mac: str, exc: Exception) -> DhcpAnswer:
        with self._lock:
            known, state = mac in self._known, self._known.get(mac)
        log.debug("controller %s did not answer for %s (%s)", self.base_url, mac, type(exc).__name__)
        self.health.failed(exc, key=_error_state(exc))  # one line while it stays down, not one per request
        if known and state in PROVISIONING:
            return DhcpAnswer(True, state, "controller unavailable: boot local (Rule D)", offline=True)
        return DhcpAnswer(False, state, "controller unavailable; not a node we boot", offline=True)

    def _expire(self, now: float) -> None:
        if len(self._answers) > 10000:
            self._answers = {k: v for k, v in self._answers.items() if v[0] > now}

    def fetch(self, path: str) -> bytes | None:
        """GET {controller}/boot/{path}: bytes, None when the controller says 404.

        Raises ConnectionError when the controller cannot answer (caller goes local).
        """
        url = f"{self.base_url}/boot/{quote(path, safe='/:-.')}"
        try:
            response = self._http.get(url, timeout=self.timeout, verify=self._verify)
        except requests.RequestException as exc:
            self.health.failed(exc, key=_error_state(exc))
            raise ConnectionError(f"controller unavailable: {exc}") from exc
        if response.status_code >= 500:
            error = ConnectionError(f"controller error {response.status_code}")
            self.health.failed(error)
            raise error
        self.health.ok()
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            return None
        return response.content


def _error_state(exc: Exception) -> str:
    """What went wrong, without the URL (it names the MAC: one state per node otherwise)."""
    response = getattr(exc, "response", None)
    status = f" {response.status_code}" if response is not None else ""
    return f"{type(exc).__name__}{status}"
