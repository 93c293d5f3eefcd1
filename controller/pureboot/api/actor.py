"""Who is making the request, for event and audit records."""

from __future__ import annotations

from flask import g, request


def current_actor() -> str:
    """The authenticated user's name; before authentication exists, the client address."""
    user = g.get("user")
    if user is not None:
        return user.username
    return f"anonymous@{request.remote_addr or 'local'}"
