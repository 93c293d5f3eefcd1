"""Domain errors. The API turns each into a JSON error with its HTTP status."""

from __future__ import annotations

from typing import Any


class PureBootError(Exception):
    status = 400
    title = "Bad Request"

    def __init__(self, message: str, *, errors: Any = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.extra = extra


class NotFound(PureBootError):
    status, title = 404, "Not Found"


class Conflict(PureBootError):
    status, title = 409, "Conflict"


class Invalid(PureBootError):
    status, title = 422, "Unprocessable Entity"


class Forbidden(PureBootError):
    status, title = 403, "Forbidden"


class Unauthorized(PureBootError):
    status, title = 401, "Unauthorized"


class PreconditionFailed(PureBootError):
    """An If-Match that no longer matches: the object changed since the client read it."""

    status, title = 412, "Precondition Failed"
