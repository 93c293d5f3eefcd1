"""What a node's install token may read: the templates its pinned workflow version names.

The token comes from an unauthenticated ``GET /api/v1/next``, so it must grant no more than
the node's own run needs: the images its ``image_deploy`` tasks name (by id or by name),
or, for a workflow that is a playbook, the templates its ``pureboot_templates`` variable
lists; nothing else listed or downloaded.
"""

from __future__ import annotations

from sqlalchemy import false, or_

from ..errors import Forbidden
from ..models import Node, Template

TEMPLATE_PARAMS = {"image_deploy": ("image",)}
#: Workflow variable naming the templates a playbook run downloads (ids or names).
TEMPLATES_VARIABLE = "pureboot_templates"


def template_refs(node: Node) -> tuple[set[int], set[str]]:
    """(ids, names) of the templates the node's workflow version names."""
    ids: set[int] = set()
    names: set[str] = set()
    version = node.workflow_version
    values = [(task.params or {}).get(param) for task in (version.tasks if version is not None else [])
              for param in TEMPLATE_PARAMS.get(task.type, ())]
    listed = (version.variables or {}).get(TEMPLATES_VARIABLE) if version is not None else None
    values += listed if isinstance(listed, list) else []
    for value in values:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            ids.add(int(value))
        elif isinstance(value, str) and value:
            names.add(value)
    return ids, names


def template_filter(node: Node):
    """A WHERE clause limiting a template listing to the node's scope."""
    ids, names = template_refs(node)
    clauses = ([Template.id.in_(ids)] if ids else []) + ([Template.name.in_(names)] if names else [])
    return or_(*clauses) if clauses else false()


def check_template(node: Node, template: Template) -> None:
    ids, names = template_refs(node)
    if template.id not in ids and template.name not in names:
        raise Forbidden(f"node {node.id}'s workflow does not use template {template.id}", code="out_of_scope")
