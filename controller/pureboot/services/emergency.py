"""Emergency access (PRD 12.2): a temporary role for one user, granted only by four-eye.

Request: POST /api/v1/approvals {"action": "access.emergency", "target_id": "<username>",
"payload": {"role": "admin", "minutes": 60}, "reason": "..."}. A different approver approves;
the role applies from then until it lapses on its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from ..errors import Invalid, NotFound
from ..models import ROLES, utcnow
from . import approvals
from .users import get_by_username

MAX_MINUTES = 8 * 60


def _prepare(session: Session, target_id: Any, payload: dict[str, Any]) -> approvals.Plan:
    user = get_by_username(session, str(target_id))
    if user is None:
        raise NotFound(f"user {target_id} not found")
    role, minutes = payload.get("role", "admin"), payload.get("minutes", 60)
    if role not in ROLES:
        raise Invalid("unknown role", errors={"payload": {"role": [f"one of {', '.join(ROLES)}"]}})
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_MINUTES:
        raise Invalid("minutes out of range", errors={"payload": {"minutes": [f"1..{MAX_MINUTES}"]}})
    return approvals.Plan("user", user.username, {"role": role, "minutes": minutes},
                          f"give {user.username} the role {role} for {minutes} minutes (now {user.role})")


def _execute(session: Session, approval, principal) -> dict[str, Any]:
    user = get_by_username(session, approval.target_id)
    if user is None:
        raise NotFound(f"user {approval.target_id} no longer exists")
    user.elevated_role = approval.payload["role"]
    user.elevated_until = utcnow() + timedelta(minutes=approval.payload["minutes"])
    return {"user": user.username, "role": user.elevated_role, "until": user.elevated_until.isoformat()}


approvals.action("access.emergency", _prepare, _execute)
