"""AWX-style lists: {count, next, previous, results}, page/page_size, order_by, filters.

A resource declares which fields can be filtered and how (exact, icontains, in,
isnull, gt/lt); :func:`list_args` turns that into a marshmallow schema, so the
filters are validated and appear in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable
from urllib.parse import urlencode

import marshmallow as ma
from flask import current_app, request
from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import Session
from webargs.fields import DelimitedList

from ..errors import NotFound

LOOKUPS = ("exact", "icontains", "in", "isnull", "gt", "lt")


class Filter:
    """A filterable attribute: `column` with the lookups it supports."""

    def __init__(self, column, field: ma.fields.Field | None = None,
                 lookups: Iterable[str] = ("exact",), apply: Callable | None = None):
        self.column = column
        # bounded: the whole request line must fit the server's limit (serve.py)
        self.field = field or ma.fields.String(validate=ma.validate.Length(max=256))
        self.lookups = tuple(lookups)
        self.apply = apply  # custom (stmt, value) -> stmt for the exact lookup


def _field_for(base: ma.fields.Field, lookup: str) -> ma.fields.Field:
    if lookup == "isnull":
        return ma.fields.Boolean()
    if lookup == "in":
        return DelimitedList(type(base)(), metadata={"description": "comma-separated values"})
    if lookup == "icontains":
        return ma.fields.String(validate=ma.validate.Length(max=256))
    return type(base)(validate=getattr(base, "validators", None) and base.validators[0])


def list_args(name: str, filters: dict[str, Filter], order_fields: Iterable[str]) -> type[ma.Schema]:
    """Build the query-string schema of one list endpoint."""
    order_fields = tuple(order_fields)
    attrs: dict[str, Any] = {
        "page": ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1)),
        "page_size": ma.fields.Integer(validate=ma.validate.Range(min=1, max=200),
                                       metadata={"description": "at most 200"}),
        "order_by": DelimitedList(
            ma.fields.String(validate=ma.validate.OneOf(
                [f for name in order_fields for f in (name, f"-{name}")])),
            metadata={"description": f"one or more of {', '.join(order_fields)}; prefix - to reverse"}),
    }
    for field_name, flt in filters.items():
        for lookup in flt.lookups:
            key = field_name if lookup == "exact" else f"{field_name}__{lookup}"
            attrs[key] = _field_for(flt.field, lookup)
    attrs["Meta"] = type("Meta", (), {"unknown": ma.RAISE})
    schema = ma.Schema.from_dict(attrs, name=name)
    schema.filters = filters
    schema.order_fields = order_fields
    return schema


def apply_filters(stmt: Select, args: dict[str, Any], filters: dict[str, Filter]) -> Select:
    for key, value in args.items():
        if key in ("page", "page_size", "order_by"):
            continue
        field_name, _, lookup = key.partition("__")
        flt = filters[field_name]
        col = flt.column
        lookup = lookup or "exact"
        if lookup == "exact":
            stmt = flt.apply(stmt, value) if flt.apply else stmt.where(col == value)
        elif lookup == "icontains":
            pattern = "%" + value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(func.lower(cast(col, String)).like(pattern, escape="\\"))
        elif lookup == "in":
            stmt = stmt.where(col.in_(value))
        elif lookup == "isnull":
            stmt = stmt.where(col.is_(None) if value else col.is_not(None))
        elif lookup == "gt":
            stmt = stmt.where(col > value)
        elif lookup == "lt":
            stmt = stmt.where(col < value)
    return stmt


def apply_order(stmt: Select, model, order_by: list[str] | None) -> Select:
    clauses = []
    for key in order_by or ["id"]:
        column = getattr(model, key.lstrip("-"))
        clauses.append(column.desc() if key.startswith("-") else column.asc())
    if not any(key.lstrip("-") == "id" for key in order_by or []):
        clauses.append(model.id.asc())  # stable pages
    return stmt.order_by(*clauses)


def _page_link(page: int) -> str:
    query = request.args.to_dict(flat=False)
    query["page"] = [str(page)]
    return f"{request.path}?{urlencode(query, doseq=True)}"


def paginate(session: Session, stmt: Select, args: dict[str, Any]) -> dict:
    """Run `stmt` for one page and wrap it in the AWX envelope (the response schema dumps it)."""
    size = args.get("page_size") or current_app.config["PUREBOOT"].page_size_default
    size = min(size, current_app.config["PUREBOOT"].page_size_max)
    page = args.get("page", 1)
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    last = max(1, -(-count // size))
    if page > last:
        raise NotFound(f"page {page} does not exist (last page is {last})")
    items = session.scalars(stmt.limit(size).offset((page - 1) * size)).unique().all()
    return {
        "count": count,
        "next": _page_link(page + 1) if page < last else None,
        "previous": _page_link(page - 1) if page > 1 else None,
        "results": items,
    }


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """OpenAPI schema of a list response whose results are `item`."""
    return ma.Schema.from_dict({
        "count": ma.fields.Integer(required=True),
        "next": ma.fields.String(allow_none=True),
        "previous": ma.fields.String(allow_none=True),
        "results": ma.fields.List(ma.fields.Nested(item), required=True),
    }, name=name)
