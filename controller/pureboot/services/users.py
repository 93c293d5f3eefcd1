"""Users, passwords (argon2id), JWT access/refresh tokens and API tokens.

Authentication goes through :class:`Authenticator` implementations tried in the order of
the ``authenticators`` setting; ``local`` checks the argon2 hash in the users table. An
LDAP/SAML/OAuth2 authenticator registers itself with :func:`register_authenticator` and
returns (creating if needed) a User row with ``source`` set to its name.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import Conflict, Invalid, NotFound, Unauthorized
from ..models import ROLES, ApiToken, User, utcnow

TOKEN_PREFIX = "pbt_"  # API tokens; anything else in a Bearer header is a JWT
JWT_ALGORITHM = "HS256"
_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal valid usernames.
_DUMMY_HASH = _hasher.hash("pureboot-dummy-password")


# -- passwords ----------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        ok = _hasher.verify(stored or _DUMMY_HASH, password)  # same cost whether or not the user exists
    except (VerificationError, InvalidHashError):
        return False
    return ok and stored is not None


def validate_password(password: str) -> None:
    if len(password) < 8:
        raise Invalid("password too short", errors={"password": ["at least 8 characters"]})


# -- authenticators (seam for LDAP / SAML / OAuth2) -----------------------------------------

class Authenticator(Protocol):
    name: str

    def authenticate(self, session: Session, username: str, password: str) -> User | None:
        """The user these credentials prove, or None to let the next authenticator try."""


class LocalAuthenticator:
    name = "local"

    def authenticate(self, session: Session, username: str, password: str) -> User | None:
        user = get_by_username(session, username)
        if user is not None and user.source != "local":
            user = None
        return user if check_password(user, password) else None


_AUTHENTICATORS: dict[str, Callable[[Settings], Authenticator]] = {"local": lambda _s: LocalAuthenticator()}


def register_authenticator(name: str, factory: Callable[[Settings], Authenticator]) -> None:
    _AUTHENTICATORS[name] = factory


def authenticate(session: Session, settings: Settings, username: str, password: str) -> User | None:
    for name in [n.strip() for n in settings.authenticators.split(",") if n.strip()]:
        factory = _AUTHENTICATORS.get(name)
        if factory is None:
            raise RuntimeError(f"unknown authenticator {name!r} in settings")
        user = factory(settings).authenticate(session, username, password)
        if user is not None and user.active:
            return user
    return None


# -- users --------------------------------------------------------------------------------

def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def get_by_username(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def create_user(session: Session, username: str, role: str, password: str | None = None,
                **extra: Any) -> User:
    if role not in ROLES:
        raise Invalid(f"unknown role {role}", errors={"role": [f"one of {', '.join(ROLES)}"]})
    if password is not None:
        validate_password(password)
    if get_by_username(session, username) is not None:
        raise Conflict(f"user {username} already exists", errors={"username": ["already exists"]})
    user = User(username=username, role=role, password_hash=hash_password(password) if password else None,
                **extra)
    session.add(user)
    session.flush()  # a concurrent duplicate still fails here (IntegrityError -> 409)
    return user


def count_admins(session: Session, excluding: int | None = None) -> int:
    stmt = select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    if excluding is not None:
        stmt = stmt.where(User.id != excluding)
    return session.scalar(stmt)


def update_user(session: Session, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Apply a change; returns what changed (for the audit). Never leaves zero active admins."""
    losing_admin = user.role == "admin" and user.active and (
        data.get("role", "admin") != "admin" or data.get("active", True) is False)
    if losing_admin and count_admins(session, excluding=user.id) == 0:
        raise Conflict("this is the last active admin; promote another admin first", code="last_admin")
    changes: dict[str, Any] = {}
    if "password" in data:
        validate_password(data["password"])
        user.password_hash = hash_password(data.pop("password"))
        changes["password"] = "changed"
    for key, value in data.items():
        if getattr(user, key) != value:
            changes[key] = {"from": getattr(user, key), "to": value}
            setattr(user, key, value)
    if {"password", "role", "active"} & set(changes):
        user.token_version += 1  # refresh tokens minted before this change stop working
    return changes


def delete_user(session: Session, user: User) -> None:
    if user.role == "admin" and user.active and count_admins(session, excluding=user.id) == 0:
        raise Conflict("this is the last active admin; promote another admin first", code="last_admin")
    session.delete(user)


# -- JWT ------------------------------------------------------------------------------------

@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def _signing_key(secret_key: str) -> bytes:
    """A 32-byte HS256 key derived from the app's SECRET_KEY (domain-separated from other uses)."""
    return hashlib.sha256(b"pureboot-jwt\0" + secret_key.encode()).digest()


def issue_tokens(user: User, settings: Settings, key: str) -> TokenPair:
    key = _signing_key(key)
    now = datetime.now(timezone.utc)
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    base = {"sub": str(user.id), "name": user.username, "iat": now, "iss": "pureboot"}
    access = jwt.encode({**base, "typ": "access", "exp": now + access_ttl}, key, JWT_ALGORITHM)
    refresh = jwt.encode({**base, "typ": "refresh", "ver": user.token_version,
                          "jti": secrets.token_urlsafe(12),
                          "exp": now + timedelta(hours=settings.refresh_token_hours)}, key, JWT_ALGORITHM)
    return TokenPair(access, refresh, int(access_ttl.total_seconds()))


def decode_token(token: str, key: str, kind: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, _signing_key(key), algorithms=[JWT_ALGORITHM], issuer="pureboot",
                            options={"require": ["exp", "sub", "typ"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired", code="token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("invalid token", code="invalid_token") from None
    if claims.get("typ") != kind:
        raise Unauthorized(f"not an {kind} token", code="invalid_token")
    return claims


def user_from_access_token(session: Session, token: str, key: str) -> User:
    claims = decode_token(token, key, "access")
    user = session.get(User, int(claims["sub"])) if str(claims["sub"]).isdigit() else None
    if user is None or not user.active:
        raise Unauthorized("the token's user no longer exists or is disabled", code="invalid_token")
    return user


def refresh(session: Session, token: str, settings: Settings, key: str) -> tuple[User, TokenPair]:
    claims = decode_token(token, key, "refresh")
    user = session.get(User, int(claims["sub"])) if str(claims["sub"]).isdigit() else None
    if user is None or not user.active or claims.get("ver") != user.token_version:
        raise Unauthorized("refresh token revoked; log in again", code="invalid_token")
    return user, issue_tokens(user, settings, key)


# -- API tokens -----------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: User, name: str,
                     expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Returns the row and the token text; the text exists only here (shown once)."""
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("expiry is in the past", errors={"expires_at": ["must be in the future"]})
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_digest(text), prefix=text[:12],
                   expires_at=expires_at)
    row.user = user
    session.add(row)
    session.flush()
    return row, text


def user_from_api_token(session: Session, text: str) -> tuple[User, ApiToken]:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(text))).first()
    now = utcnow()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("invalid or revoked API token", code="invalid_token")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("API token expired", code="token_expired")
    if not row.user.active:
        raise Unauthorized("the token's user is disabled", code="invalid_token")
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now  # at most one write a minute per token
        session.commit()
    return row.user, row


def revoke_api_token(row: ApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
