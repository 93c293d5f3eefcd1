"""Extra vars that Ansible must never template: strings with Jinja markers become ``!unsafe``."""

from __future__ import annotations

from typing import Any

import yaml

from .policy import JINJA_MARKERS


class UnsafeText(str):
    """A string Ansible keeps as text (AnsibleUnsafeText once loaded)."""


class Dumper(yaml.SafeDumper):
    pass


Dumper.add_representer(UnsafeText, lambda dumper, data: dumper.represent_scalar("!unsafe", str(data)))


def mark(value: Any) -> Any:
    if isinstance(value, str):
        return UnsafeText(value) if any(m in value for m in JINJA_MARKERS) else value
    if isinstance(value, dict):
        return {key: mark(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mark(item) for item in value]
    return value
