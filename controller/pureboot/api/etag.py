"""Optimistic concurrency for single objects: an ETag on reads and writes, If-Match on writes.

The tag is ``"<id>-<lock_version>"`` (strong, quoted): the row's version counter, which
SQLAlchemy (``version_id_col``) bumps on every UPDATE and puts in the WHERE clause of every
UPDATE and DELETE. So the If-Match check below (against the version this transaction read)
and the write's own version condition together are one compare-and-set: a change that
commits between our read and our write makes the write match no row (StaleDataError),
which becomes 412 too. Without If-Match a request behaves as before.

flask-smorest's ``Blueprint.etag`` is not used: it answers 428 to every PATCH/DELETE
without If-Match (existing clients would break), and it compares a hash of the object
serialized before the write, which two concurrent writers can both pass.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps
from typing import Any, Iterator

from flask import Response, request
from flask_smorest.utils import prepare_response
from sqlalchemy import inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from ..errors import Conflict, NotFound, PreconditionFailed

DOC_KEY = "pureboot_etag"
CHECKING_METHODS = ("patch", "delete")
ETAG_HEADER_DOC = {"description": 'Version of the returned object ("<id>-<version>"); send it back '
                                  "in If-Match to write only if nobody changed the object since",
                   "schema": {"type": "string"}}
IF_MATCH_DOC = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
                "description": "ETag from an earlier read: the write happens only if the object is still "
                               "that version (else 412); * matches any existing version"}
PRECONDITION_FAILED = ("If-Match does not match: the object changed since it was read; "
                       "the error's etag names the current version")


def etag_for(row: Any) -> str:
    return f'"{row.id}-{row.lock_version}"'


def versioned(view):
    """Decorator, right above ``def``: the object the view returns goes out with its ETag.

    Responses the view built itself (a 202 approval request) and empty ones pass unchanged.
    The OpenAPI document gets the ETag header and, on PATCH/DELETE, If-Match and 412.
    """
    @wraps(view)
    def wrapper(*args, **kwargs):
        result = view(*args, **kwargs)
        if result is None or isinstance(result, (Response, tuple)):
            return result
        return result, {"ETag": etag_for(result)}

    wrapper._apidoc = {**getattr(view, "_apidoc", {}), DOC_KEY: True}
    return wrapper


def check(row: Any) -> None:
    """Raise 412 unless If-Match (when sent) names this version of ``row`` or is ``*``."""
    wanted = request.if_match
    if not request.headers.get("If-Match") or wanted.star_tag:
        return  # absent: as before; "*": any existing object, and this one exists
    if not wanted.contains(etag_for(row).strip('"')):
        raise _mismatch(row)


@contextmanager
def guarded(session: Session, row: Any) -> Iterator[None]:
    """Check If-Match, then run the write; a concurrent change of ``row`` inside it is a 412.

    Without If-Match a concurrent change is a 409 (``concurrent_update``), as node
    transitions already answer: never a 500.
    """
    check(row)
    try:
        yield
    except StaleDataError:
        session.rollback()
        raise _lost_race(session, row) from None
    except Conflict as exc:
        if exc.extra.get("code") != "concurrent_update" or not request.headers.get("If-Match"):
            raise
        raise _lost_race(session, row) from None


def _lost_race(session: Session, row: Any) -> Exception:
    session.rollback()
    name = _label(row)
    try:
        session.refresh(row)
    except (InvalidRequestError, ObjectDeletedError):  # the row is gone
        return NotFound(f"{name} was deleted meanwhile")
    if request.headers.get("If-Match"):
        return _mismatch(row)
    return Conflict(f"{name} was changed by someone else; reload and retry", code="concurrent_update",
                    etag=etag_for(row))


def _mismatch(row: Any) -> PreconditionFailed:
    current = etag_for(row)
    return PreconditionFailed(f"{_label(row)} changed since it was read: its current ETag is {current}; "
                              "read it again and retry", etag=current)


def _label(row: Any) -> str:
    return f"{inspect(row).mapper.class_.__name__.lower()} {row.id}"


def document(doc: dict, doc_info: dict, *, api: Any, spec: Any, method: str, **_: Any) -> dict:
    """flask-smorest doc callback (api/blueprint.py) for views marked by :func:`versioned`."""
    if not doc_info.get(DOC_KEY):
        return doc
    responses = doc.setdefault("responses", {})
    for status in doc_info.get("success_status_codes", []):
        if int(status) != 204:
            responses[status].setdefault("headers", {})["ETag"] = ETAG_HEADER_DOC
    if method in CHECKING_METHODS:
        doc.setdefault("parameters", []).append(IF_MATCH_DOC)
        failed = {"description": PRECONDITION_FAILED, "schema": api.ERROR_SCHEMA}
        prepare_response(failed, spec, api.DEFAULT_RESPONSE_CONTENT_TYPE)
        responses[412] = failed
    return doc
