# -*- coding: utf-8 -*-
# Copyright: PureBoot contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the names users write in playbooks into the ids the API wants."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pureboot.pureboot.plugins.module_utils.api import PureBootAPIError


def by_name_or_id(client, collection, value, kind):
    """The item of ``collection`` named ``value`` (or with that numeric id); raises if none."""
    text = str(value).strip()
    if text.isdigit():
        item = client.get_or_none("%s/%s" % (collection, text))
    else:
        item = client.find_one(collection, {"name": text})
    if item is None:
        raise PureBootAPIError("no %s named or numbered %r exists on the controller" % (kind, text), status=404)
    return item


def workflow_id(client, value):
    """Id of the workflow ``value`` (name or id); None when ``value`` is None."""
    if value is None:
        return None
    return by_name_or_id(client, "workflows", value, "workflow")["id"]
