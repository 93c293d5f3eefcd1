"""Authentication helpers for test suites.

In-process (Flask test client)::

    token = mint_token(app, "operator")             # user "operator" with role operator
    client = app.test_client(token=token)           # conftest's BearerClient adds the header

Against a live controller (subprocess/gunicorn), the way scripts and the collection's
integration tests do it::

    token = cli_api_token(env, "ci-admin", "admin")  # pureboot user create + pureboot token create
    headers = {"Authorization": f"Bearer {token}"}
    access = login(base_url, "ci-admin", password)   # POST /api/v1/auth/token
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from typing import Mapping

from flask.testing import FlaskClient
from werkzeug.datastructures import Headers


class BearerClient(FlaskClient):
    """A test client that sends ``Authorization: Bearer <token>`` unless a request sets its own."""

    def __init__(self, *args, token: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.token = token

    def open(self, *args, **kwargs):
        if self.token:
            headers = Headers(kwargs.pop("headers", None) or {})
            if "Authorization" not in headers:
                headers["Authorization"] = f"Bearer {self.token}"
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def ensure_user(app, username: str, role: str, password: str | None = None) -> int:
    """Create the user unless it exists (no password by default: hashing is slow)."""
    from pureboot.services.users import create_user, get_by_username
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        user = get_by_username(session, username) or create_user(session, username, role, password)
        return user.id


def mint_token(app, role: str, username: str | None = None) -> str:
    """A JWT access token for `username` (default: the role's name), created with that role."""
    from pureboot.models import User
    from pureboot.services.users import issue_tokens
    user_id = ensure_user(app, username or role, role)
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        user = session.get(User, user_id)
        return issue_tokens(user, app.config["PUREBOOT"], app.config["SECRET_KEY"]).access_token


def _pureboot(args: list[str], env: Mapping[str, str], stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "pureboot.cli", *args], input=stdin, text=True,
                            capture_output=True, env={**os.environ, **env}, check=False, timeout=120)
    if result.returncode:
        raise RuntimeError(f"pureboot {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def cli_create_user(env: Mapping[str, str], username: str, role: str, password: str | None = None) -> str:
    """`pureboot user create USERNAME --role ROLE --password-stdin`; returns the password."""
    password = password or secrets.token_urlsafe(12)
    _pureboot(["user", "create", username, "--role", role, "--password-stdin"], env, password + "\n")
    return password


def cli_api_token(env: Mapping[str, str], username: str, role: str = "admin") -> str:
    """A fresh user (created if missing) and an API token for it, via the CLI."""
    try:
        cli_create_user(env, username, role)
    except RuntimeError as exc:
        if "already exists" not in str(exc):
            raise
    return _pureboot(["token", "create", "--user", username, "--name", "tests"], env).strip()


def login(base_url: str, username: str, password: str) -> str:
    """POST /api/v1/auth/token on a live controller; returns the access token."""
    request = urllib.request.Request(f"{base_url.rstrip('/')}/api/v1/auth/token",
                                     data=json.dumps({"username": username, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access_token"]
