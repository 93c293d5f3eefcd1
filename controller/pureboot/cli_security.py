"""`pureboot user|token|audit|secrets`: the security commands, and the first-start admin."""

from __future__ import annotations

import sys

import click

from .config import load_settings


def _app():
    """The controller app (for app-context services: database, secrets, audit)."""
    from .app import create_app
    from .migrate import NotMigrated
    try:
        return create_app(load_settings())
    except NotMigrated as exc:
        raise click.ClickException(str(exc)) from None


def bootstrap_admin(app) -> None:
    """Create the first admin on an empty user table; print its password once (never logged)."""
    from sqlalchemy.exc import IntegrityError

    from .services.bootstrap import ensure_admin
    try:
        with app.app_context():
            with app.extensions["pureboot.db"].session() as session:
                created = ensure_admin(session)
    except IntegrityError:
        return  # another controller starting at the same moment created it first
    if created is None:
        return
    username, password = created
    if password is None:
        click.echo(f"Created the first admin user {username!r} with the password from PUREBOOT_ADMIN_PASSWORD.")
    else:
        click.echo("=" * 72 + f"\nCreated the first admin user.\n  username: {username}\n  password: {password}\n"
                   "This password is shown only now. Log in (POST /api/v1/auth/token) and change it\n"
                   "(POST /api/v1/me/password), or set PUREBOOT_ADMIN_PASSWORD before the first start.\n"
                   + "=" * 72)


@click.group(help="Users and roles (admin, operator, auditor, user).")
def user() -> None:
    pass


@user.command("create", help="Create a user. The password is prompted for, or read from stdin.")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "operator", "auditor", "user"]))
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def user_create(username: str, role: str, password_stdin: bool) -> None:
    from .errors import PureBootError
    from .services import audit
    from .services.users import create_user
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    app = _app()
    try:
        with app.app_context(), app.extensions["pureboot.db"].session() as session:
            row = create_user(session, username, role, password)
            audit.append(session, "user.create", actor="cli", target=("user", row.id),
                         details={"username": username, "role": role})
    except PureBootError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created {role} {username}")


@click.group(help="API tokens for automation.")
def token() -> None:
    pass


@token.command("create", help="Create an API token for USER and print it (shown once).")
@click.option("--user", "username", required=True)
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-days", type=click.IntRange(min=1), help="expire after this many days")
def token_create(username: str, name: str, expires_days: int | None) -> None:
    from datetime import timedelta

    from .models import utcnow
    from .services import audit
    from .services.users import create_api_token, get_by_username
    app = _app()
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        row = get_by_username(session, username)
        if row is None:
            raise click.ClickException(f"no user {username}")
        expires = utcnow() + timedelta(days=expires_days) if expires_days else None
        tok, text = create_api_token(session, row, name, expires)
        audit.append(session, "token.create", actor="cli", target=("api_token", tok.id),
                     details={"user": username, "name": name})
    click.echo(text)


@click.group(help="The tamper-evident audit log.")
def audit() -> None:
    pass


@audit.command("verify", help="Recompute the hash chain; exit 1 if entries were edited or deleted.")
def audit_verify() -> None:
    from .services.audit import verify
    app = _app()
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        result = verify(session)
    for problem in result.problems:
        click.echo(f"seq {problem['seq']}: {problem['problem']}", err=True)
    click.echo(f"{'OK' if result.ok else 'TAMPERED'}: {result.checked} entries checked"
               + (f" (seq {result.first_seq}..{result.last_seq})" if result.checked else ""))
    sys.exit(0 if result.ok else 1)


@click.group(help="Encryption keys of stored secrets.")
def secrets() -> None:
    pass


@secrets.command("rotate", help="Add a new key (key file) and re-encrypt every stored secret with it.")
@click.option("--drop-old", is_flag=True, help="afterwards keep only the new key in the key file")
def secrets_rotate(drop_old: bool) -> None:
    from . import secrets as secret_store
    from .services import audit
    app = _app()
    settings = app.config["PUREBOOT"]
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        count = secret_store.rotate(settings, session)
        audit.append(session, "secrets.rotate", actor="cli", details={"rows": count})
    if drop_old:
        secret_store.drop_old_keys(settings)
    source = "PUREBOOT_SECRET_KEYS (put the new key first yourself)" if settings.secret_keys else \
        str(secret_store.key_file(settings))
    click.echo(f"re-encrypted {count} secret(s); keys: {source}")


def register(main: click.Group) -> None:
    for group in (user, token, audit, secrets):
        main.add_command(group)
