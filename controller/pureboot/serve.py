"""Run the controller under gunicorn, configured from our settings."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from .app import create_app
from .config import Settings
from .db import make_engine
from .migrate import check_migrated
from .services.watchdog import Watchdog
from .tls import material


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, tls: tuple[str, str] | None = None):
        self.settings = settings
        self.tls = tls
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", self.settings.listen)
        self.cfg.set("workers", self.settings.workers)
        self.cfg.set("threads", self.settings.threads)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("accesslog", "-")
        self.cfg.set("timeout", 120)
        # gunicorn answers longer request lines itself, in HTML; 8190 (its maximum) leaves room
        # for every query the OpenAPI document allows (filters are bounded to 256 characters).
        self.cfg.set("limit_request_line", 8190)
        if self.tls:
            self.cfg.set("certfile", self.tls[0])
            self.cfg.set("keyfile", self.tls[1])

    def load(self):
        app = create_app(self.settings)
        if self.settings.watchdog_interval > 0:  # one per worker process; sweeps are idempotent
            Watchdog(app.extensions["pureboot.db"], self.settings.install_timeout,
                     self.settings.watchdog_interval).start()
        return app


def run(settings: Settings) -> None:
    # Fail in the parent with a clear message, not once per worker.
    with make_engine(settings.database_uri).connect() as connection:
        check_migrated(connection, settings.database_uri)
    s = settings
    _Gunicorn(settings, material(s.tls_cert, s.tls_key, s.tls_self_signed, s.data_dir, s.listen)).run()
