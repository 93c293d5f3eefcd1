"""Runtime settings: system-wide values changed through the API, only via a four-eye approval.

The file/environment Settings stay the base; rows in ``system_settings`` override the keys in
RUNTIME_KEYS. Every worker re-reads the (tiny) table at most every REFRESH_SECONDS, so an
approved change reaches all gunicorn workers within seconds.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app
from limits import parse as parse_limit
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..deadline import within
from ..errors import Invalid
from ..models import ROLES, SystemSetting
from . import approvals

RUNTIME_KEYS = ("auth_required", "approver_roles", "approval_window", "approval_windows", "discovery",
                "discovery_after_inventory",
                "rate_limit_login", "rate_limit_login_ip", "rate_limit_boot", "rate_limit_boot_known",
                "access_token_minutes",
                "refresh_token_hours", "page_size_default")
REFRESH_SECONDS = 5.0
REFRESH_DEADLINE = 0.5
_STATE = "pureboot.settings_state"


def init_app(app: Flask) -> None:
    app.extensions[_STATE] = {"base": app.config["PUREBOOT"], "applied": {}, "checked": 0.0}
    app.before_request(lambda: refresh(current_app))


def refresh(app: Flask, force: bool = False) -> None:
    state = app.extensions[_STATE]
    now = time.monotonic()
    if not force and now - state["checked"] < REFRESH_SECONDS:
        return
    state["checked"] = now
    database = app.extensions["pureboot.db"]

    def load() -> dict[str, Any]:
        with database.sessions() as session:
            return {row.key: row.value for row in session.scalars(select(SystemSetting))}

    # bounded: a locked or unreachable database must not hold up any request (Rule D)
    rows = within(REFRESH_DEADLINE, load, None, "runtime settings refresh")
    if rows is not None and rows != state["applied"]:
        app.config["PUREBOOT"] = state["base"].with_overrides(**rows) if rows else state["base"]
        state["applied"] = rows


def effective() -> dict[str, Any]:
    settings = current_app.config["PUREBOOT"]
    return {key: getattr(settings, key) for key in RUNTIME_KEYS}


def validate(changes: dict[str, Any]) -> dict[str, Any]:
    """Check types and meaning; returns the coerced values. Raises Invalid."""
    unknown = sorted(set(changes) - set(RUNTIME_KEYS))
    if unknown or not changes:
        raise Invalid("unknown or no settings", errors={"changes": {k: ["not a runtime setting"] for k in unknown}
                                                        or ["give at least one setting"]})
    try:
        coerced = current_app.config["PUREBOOT"].with_overrides(**changes)
    except (ValueError, TypeError) as exc:
        raise Invalid(str(exc), errors={"changes": [str(exc)]}) from None
    values = {key: getattr(coerced, key) for key in changes}
    errors: dict[str, list[str]] = {}
    if "approver_roles" in values:
        roles = [r.strip() for r in values["approver_roles"].split(",") if r.strip()]
        if not roles or set(roles) - set(ROLES):
            errors["approver_roles"] = [f"comma-separated roles from {', '.join(ROLES)}"]
    for key in ("rate_limit_login", "rate_limit_login_ip", "rate_limit_boot", "rate_limit_boot_known"):
        if key in values:
            try:
                parse_limit(values[key])
            except ValueError:
                errors[key] = ["a rate like 10/minute"]
    for key in ("approval_window", "access_token_minutes", "refresh_token_hours", "page_size_default"):
        if key in values and not 1 <= values[key] <= 10**7:
            errors[key] = ["out of range"]
    if errors:
        raise Invalid("invalid settings", errors={"changes": errors})
    return values


def _prepare(session: Session, target_id: Any, payload: dict[str, Any]) -> approvals.Plan:
    values = validate(payload.get("changes") or {})
    current = effective()
    summary = ", ".join(f"{k}: {current[k]!r} -> {v!r}" for k, v in sorted(values.items()))
    return approvals.Plan("settings", "system", {"changes": values}, f"change system settings ({summary})")


def _execute(session: Session, approval, principal) -> dict[str, Any]:
    values = validate(approval.payload["changes"])
    for key, value in values.items():
        row = session.scalars(select(SystemSetting).where(SystemSetting.key == key)).first()
        if row is None:
            session.add(SystemSetting(key=key, value=value, updated_by=principal.username))
        else:
            row.value, row.updated_by = value, principal.username
    session.flush()
    return {"changed": sorted(values)}


def after_commit(app: Flask) -> None:
    refresh(app, force=True)


approvals.action("settings.update", _prepare, _execute)
