"""Blueprint whose JSON bodies may also be sent as YAML (workflows are written in YAML)."""

from __future__ import annotations

import yaml
from flask_smorest import Blueprint as _Blueprint
from marshmallow import RAISE
from webargs import missing
from webargs.flaskparser import FlaskParser, is_json_request

from . import bodies, etag

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
                return bodies.load_yaml(req.get_data(cache=True, as_text=True))
            except yaml.YAMLError as exc:
                self._handle_invalid_json_error(ValueError(f"invalid YAML: {exc}"), req)
            except bodies.BodyError as exc:
                self._handle_invalid_json_error(exc, req)
        if not is_json_request(req):
            return missing
        try:
            return bodies.load_json(req.get_data(cache=True))
        except (ValueError, UnicodeDecodeError) as exc:  # BodyError, JSONDecodeError
            self._handle_invalid_json_error(exc, req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        from flask_smorest import abort
        abort(400, message=f"request body is not valid JSON/YAML: {error}")


class Blueprint(_Blueprint):
    """Also documents the ETag / If-Match / 412 of views marked with ``etag.versioned``."""

    ARGUMENTS_PARSER = BodyParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(etag.document)
