"""Field types shared by several resources."""

from __future__ import annotations

import ipaddress
import re

import marshmallow as ma

from ..shared import mac

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$", re.I)


class StrictBoolean(ma.fields.Boolean):
    """JSON bodies: only true/false. marshmallow's Boolean also takes 0, 1, "yes", "on" ...,
    which the OpenAPI document (type: boolean) forbids. Query strings keep ma.fields.Boolean."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class MacAddress(ma.fields.String):
    """Accepts any common MAC spelling, stores and returns aa:bb:cc:dd:ee:ff."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            normalized = mac.normalize_mac(text)
        except ValueError:
            raise ma.ValidationError("not a MAC address (e.g. aa:bb:cc:dd:ee:ff)") from None
        reserved = mac.reserved_reason(normalized)
        if reserved:
            raise ma.ValidationError(reserved)
        return normalized


class Hostname(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if not _HOSTNAME.match(text):
            raise ma.ValidationError("not a valid hostname (RFC 1123)")
        return text


class IPAddress(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            raise ma.ValidationError("not an IPv4 or IPv6 address") from None


def short_text(maximum: int, minimum: int = 0, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(min=minimum, max=maximum), **kwargs)


Tags = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
                      validate=ma.validate.Length(max=64))
