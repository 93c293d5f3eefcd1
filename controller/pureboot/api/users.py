"""/api/v1/users: admins manage users; role changes and deactivations are audited."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select

from .. import rbac
from ..db import get_session
from ..errors import Conflict
from ..models import ROLES, User
from ..schemas.users import UserInput, UserOutput, UserPatch
from ..services import audit
from ..services import users as service
from .blueprint import Blueprint
from .listing import Filter, apply_filters, apply_order, list_args, page_schema, paginate

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Users and roles (admin)")

FILTERS = {
    "username": Filter(User.username, lookups=("exact", "icontains")),
    "role": Filter(User.role, fields.String(validate=validate.OneOf(ROLES)), lookups=("exact", "in")),
    "active": Filter(User.active, fields.Boolean()),
    "source": Filter(User.source),
}
UserListArgs = list_args("UserListArgs", FILTERS, ("id", "username", "role", "created_at", "last_login_at"))


@blp.route("")
class UserList(MethodView):
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, page_schema(UserOutput, "UserPage"))
    def get(self, args):
        """List users"""
        stmt = apply_order(apply_filters(select(User), args, FILTERS), User, args.get("order_by"))
        return paginate(get_session(), stmt, args)

    @blp.arguments(UserInput)
    @blp.response(201, UserOutput)
    @blp.alt_response(409, description="username taken")
    def post(self, data):
        """Create a user"""
        session = get_session()
        user = service.create_user(session, data.pop("username"), data.pop("role"), data.pop("password", None), **data)
        audit.record("user.create", target=("user", user.id), session=session,
                     details={"username": user.username, "role": user.role})
        session.commit()
        return user


@blp.route("/<int:user_id>")
class UserItem(MethodView):
    @blp.response(200, UserOutput)
    def get(self, user_id):
        """User details"""
        return service.get_user(get_session(), user_id)

    @blp.arguments(UserPatch)
    @blp.response(200, UserOutput)
    @blp.alt_response(409, description="would leave no active admin")
    def patch(self, data, user_id):
        """Change role, password, contact details or disable a user"""
        session = get_session()
        user = service.get_user(session, user_id)
        if _is_me(user) and (data.get("role", user.role) != user.role or data.get("active") is False):
            raise Conflict("you cannot change your own role or disable yourself; ask another admin",
                           code="self_lockout")
        changes = service.update_user(session, user, data)
        action = "user.role" if "role" in changes else "user.update"
        audit.record(action, target=("user", user.id), session=session,
                     details={"username": user.username, "changes": changes})
        session.commit()
        return user

    @blp.response(204)
    @blp.alt_response(409, description="would leave no active admin")
    def delete(self, user_id):
        """Delete a user (its API tokens go with it)"""
        session = get_session()
        user = service.get_user(session, user_id)
        if _is_me(user):
            raise Conflict("you cannot delete yourself; ask another admin", code="self_lockout")
        service.delete_user(session, user)
        audit.record("user.delete", target=("user", user_id), session=session, details={"username": user.username})
        session.commit()


def _is_me(user: User) -> bool:
    principal = rbac.current_principal()
    return principal is not None and principal.id == user.id
