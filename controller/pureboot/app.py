"""The Flask application factory."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from flask_smorest import Api as _Api
from werkzeug.routing import IntegerConverter

from . import __version__, events, rbac
from .api import BLUEPRINTS, errors, guard, protection
from .api.bodies import BoundedJSONProvider
from .api.system import assets
from .config import Settings, load_settings
from .db import Database, close_session
from .jobs.system import init_app as init_jobs
from .migrate import check_migrated
from .services import settings_store
from .services.webhooks import init_app as init_webhooks


class Api(_Api):
    ERROR_SCHEMA = errors.ErrorSchema


class BoundedInt(IntegerConverter):
    """<int:..> ids that fit a BIGINT: anything larger is simply not found (never a 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def _secret_key(settings: Settings) -> str:
    """Use the configured key, or one generated once and kept in the data directory."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _openapi_config(app: Flask) -> None:
    app.config.update(
        API_TITLE="PureBoot", API_VERSION=__version__, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": "PureBoot controller API (AWX-style lists and errors). Authenticate with "
                                    "POST /api/v1/auth/token, then send 'Authorization: Bearer <access_token>' "
                                    "(or an API token from /api/v1/tokens)."},
            "components": {"securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "description": "JWT access token or API token (pbt_...)"}}},
            "security": [{"bearerAuth": []}],
        },
    )


def _document_open_endpoints(api: Api) -> None:
    """Mark the endpoints the RBAC matrix leaves open as needing no authentication."""
    for path, operations in api.spec._paths.items():
        rule = path.replace("{", "<").replace("}", ">")
        for method, operation in operations.items():
            if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD") and \
                    rbac.required_permission(method.upper(), rule) in rbac.OPEN:
                operation["security"] = []


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the controller. `config` is a Settings, or overrides on top of the environment."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    logging.getLogger("pureboot").setLevel(settings.log_level.upper())

    app = Flask("pureboot")
    app.json = BoundedJSONProvider(app)  # request.get_json(): size and depth limits (api/bodies.py)
    app.config["PUREBOOT"] = settings
    app.config["SECRET_KEY"] = _secret_key(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.url_map.strict_slashes = False
    app.url_map.converters["int"] = BoundedInt
    _openapi_config(app)

    database = Database(settings.database_uri)
    if settings.check_migrations:
        with database.engine.connect() as connection:
            check_migrated(connection, settings.database_uri)
    app.extensions["pureboot.db"] = database
    init_jobs(app, settings, database)
    init_webhooks(app, settings, database, backoff=settings.webhook_retry_backoff)
    events.configure(settings.event_retention_hours)
    app.teardown_appcontext(close_session)

    settings_store.init_app(app)  # runtime settings (four-eye approved) override the file values
    protection.register(app)  # rate limits first: a flood is refused before any database work
    guard.register(app)  # authentication + the RBAC matrix, for every request
    api = Api(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    _document_open_endpoints(api)
    app.register_blueprint(assets)
    errors.register(app)
    return app
