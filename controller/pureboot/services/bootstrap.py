"""First start: with no users at all, create an ``admin`` so a newcomer can log in.

The password is PUREBOOT_ADMIN_PASSWORD when set (never echoed), otherwise generated and
returned once for the caller to print on the console; it is never written to a log.
"""

from __future__ import annotations

import os
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import User
from . import audit
from .users import create_user


def ensure_admin(session: Session, environ=os.environ) -> tuple[str, str | None] | None:
    """None if users exist; else (username, generated password or None when from the env)."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    given = environ.get("PUREBOOT_ADMIN_PASSWORD") or None
    password = given or secrets.token_urlsafe(15)
    user = create_user(session, "admin", "admin", password)
    audit.append(session, "user.bootstrap", actor="system", target=("user", user.id),
                 details={"username": "admin", "password_from": "environment" if given else "generated"})
    return user.username, None if given else password
