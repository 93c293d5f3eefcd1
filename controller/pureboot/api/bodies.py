"""Bounded request bodies: JSON and YAML are refused past a size and a nesting depth.

A body of 50,000 nested arrays would otherwise reach the recursive decoder (and later
marshmallow and the JSON column encoder) and end in a RecursionError: a 500 with a
traceback. The limits are far above anything PureBoot's API takes.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32


class BodyError(ValueError):
    """Not a body we decode (the caller answers 400)."""


def check_size(data: bytes | str) -> None:
    if len(data) > MAX_BYTES:
        raise RequestEntityTooLarge(f"a JSON/YAML body may be at most {MAX_BYTES} bytes")


def check_depth(value: Any) -> Any:
    """`value` itself, or BodyError when containers nest deeper than MAX_DEPTH (iterative)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            raise BodyError(f"nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)
    return value


def load_json(data: bytes | str) -> Any:
    check_size(data)
    try:
        return check_depth(json.loads(data))
    except RecursionError:
        raise BodyError(f"nested deeper than {MAX_DEPTH} levels") from None


def load_yaml(text: str) -> Any:
    check_size(text)
    try:
        return check_depth(yaml.safe_load(text))
    except RecursionError:
        raise BodyError(f"nested deeper than {MAX_DEPTH} levels") from None


class BoundedJSONProvider(DefaultJSONProvider):
    """request.get_json() everywhere goes through here (Flask's app.json)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s)
