"""One JSON error shape for every failure: {code, status, message, errors?, ...}.

No response ever carries a traceback: unexpected exceptions are logged with an id
and answered with a 500 that gives only that id.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, jsonify
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from werkzeug.exceptions import HTTPException

from ..errors import PureBootError

log = logging.getLogger("pureboot.api")


class ErrorSchema(ma.Schema):
    """The error body as documented in OpenAPI (what error_response really sends)."""

    class Meta:
        unknown = ma.INCLUDE  # domain errors add context (state, allowed, approval_status, ...)

    code = ma.fields.Raw(metadata={"description": "the HTTP status (integer), or for domain errors a stable "
                                                  "machine-readable string such as approval_expired"})
    status = ma.fields.String(metadata={"description": "HTTP status phrase"})
    message = ma.fields.String()
    errors = ma.fields.Raw(metadata={"description": "field -> messages, when input was invalid"})
    location = ma.fields.String(metadata={"description": "where the invalid input was: json, query, ..."})


def error_response(status: int, message: str | None = None, errors: Any = None, **extra: Any):
    body: dict[str, Any] = {"code": status, "status": HTTPStatus(status).phrase}
    body["message"] = message or HTTPStatus(status).description
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    return response


def _webargs_errors(data: dict[str, Any]) -> tuple[Any, str | None]:
    """webargs nests messages by location ({"json": {...}}); flatten a single location."""
    messages = data.get("messages")
    if isinstance(messages, dict) and len(messages) == 1:
        location, inner = next(iter(messages.items()))
        return inner, location
    return messages, None


def handle_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors, location = _webargs_errors(data)
    message = data.get("message") or exc.description
    if errors and exc.code == 422:
        message = "invalid input" + (f" in {location}" if location else "")
    response = error_response(exc.code or 500, message, errors, location=location)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def handle_domain_error(exc: PureBootError):
    return error_response(exc.status, exc.message, exc.errors, **exc.extra)


def handle_validation_error(exc: ValidationError):
    return error_response(422, "invalid input", exc.messages)


def handle_integrity_error(exc: IntegrityError):
    log.info("integrity error: %s", exc.orig)
    return error_response(409, "the change conflicts with an existing record")


def handle_out_of_range(exc: Exception):
    """A number the database cannot hold (e.g. an id beyond BIGINT): bad input, not a crash."""
    log.info("value out of range: %s", type(exc).__name__)
    return error_response(422, "a value cannot be stored: out of range, or text with NUL characters")


def handle_statement_error(exc: StatementError):
    if isinstance(exc.orig, OverflowError):
        return handle_out_of_range(exc)
    return handle_unexpected(exc)


def handle_unexpected(exc: Exception):
    incident = uuid.uuid4().hex[:12]
    if isinstance(exc, OperationalError):
        log.error("database error (incident %s): %s", incident, exc.orig)
        return error_response(503, f"the database is unavailable (incident {incident})")
    log.exception("unhandled error (incident %s)", incident)
    return error_response(500, f"internal error (incident {incident}); see the controller log")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(PureBootError, handle_domain_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_out_of_range)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(StatementError, handle_statement_error)
    app.register_error_handler(Exception, handle_unexpected)
