"""Blueprint whose JSON bodies may also be sent as YAML (workflows are written in YAML)."""

from __future__ import annotations

import yaml
from flask_smorest import Blueprint as _Blueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


class BodyParser(FlaskParser):
    """Parse request bodies as JSON, or as YAML when the client says so.

    Unknown query parameters are errors (webargs ignores them by default): a
    mistyped filter must not silently return the whole list.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE}

    def _raw_load_json(self, req):
        if req.method == "PATCH" and not req.get_data(cache=True):
            # webargs would read "no body" as {} and answer 200 having changed nothing; the
            # OpenAPI document marks the body required, so say what is missing instead.
            from flask_smorest import abort
            abort(400, message="a PATCH needs a JSON (or YAML) body with the fields to change")
        mimetype = (req.mimetype or "").lower()
        if mimetype in YAML_TYPES:
            try:
                return yaml.safe_load(req.get_data(cache=True, as_text=True))
            except yaml.YAMLError as exc:
                self._handle_invalid_json_error(ValueError(f"invalid YAML: {exc}"), req)
        return super()._raw_load_json(req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        from flask_smorest import abort
        abort(400, message=f"request body is not valid JSON/YAML: {error}")


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = BodyParser()
