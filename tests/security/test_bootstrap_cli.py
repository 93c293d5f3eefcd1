"""First start prints a generated admin password once; CLI users and API tokens."""

import logging

import pytest
from click.testing import CliRunner

from pureboot.cli import bootstrap_admin, main


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("PUREBOOT_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("PUREBOOT_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("PUREBOOT_ADMIN_PASSWORD", raising=False)


def test_first_start_prints_generated_password_once_and_never_logs_it(app, anon_client, capsys, caplog, cli_env):
    caplog.set_level(logging.DEBUG)
    bootstrap_admin(app)
    out = capsys.readouterr().out
    password = next(line.split(":", 1)[1].strip() for line in out.splitlines() if "password:" in line)
    assert len(password) >= 16
    assert password not in caplog.text
    login = anon_client.post("/api/v1/auth/token", json={"username": "admin", "password": password})
    assert login.status_code == 200
    bootstrap_admin(app)  # users exist now: nothing created, nothing printed
    assert capsys.readouterr().out == ""
    entries = anon_client.get("/api/v1/audit", headers={"Authorization": f"Bearer {login.get_json()['access_token']}"})
    assert password not in entries.get_data(as_text=True)


def test_two_controllers_starting_together_make_one_admin(app, anon_client, capsys, cli_env, monkeypatch):
    """Both see an empty user table; one creates the admin, the other's insert loses quietly."""
    import threading

    from pureboot.services import bootstrap

    monkeypatch.setenv("PUREBOOT_ADMIN_PASSWORD", "raced-password")
    barrier, real_create = threading.Barrier(2), bootstrap.create_user

    def create_after_both_looked(*args, **kwargs):
        barrier.wait(10)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(bootstrap, "create_user", create_after_both_looked)
    errors = []

    def start():
        try:
            bootstrap_admin(app)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted on
            errors.append(exc)
    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert capsys.readouterr().out.count("Created the first admin") == 1
    assert anon_client.post("/api/v1/auth/token", json={"username": "admin",
                                                        "password": "raced-password"}).status_code == 200


def test_admin_password_from_environment_is_not_echoed(app, anon_client, capsys, monkeypatch, cli_env):
    monkeypatch.setenv("PUREBOOT_ADMIN_PASSWORD", "env-chosen-password")
    bootstrap_admin(app)
    assert "env-chosen-password" not in capsys.readouterr().out
    assert anon_client.post("/api/v1/auth/token", json={"username": "admin",
                                                        "password": "env-chosen-password"}).status_code == 200


def test_cli_user_create_and_token_create(anon_client, cli_env):
    runner = CliRunner()
    made = runner.invoke(main, ["user", "create", "robot", "--role", "operator", "--password-stdin"],
                         input="robot-password\n")
    assert made.exit_code == 0, made.output
    again = runner.invoke(main, ["user", "create", "robot", "--role", "operator", "--password-stdin"],
                          input="robot-password\n")
    assert again.exit_code != 0 and "already exists" in again.output
    token = runner.invoke(main, ["token", "create", "--user", "robot", "--expires-days", "1"])
    assert token.exit_code == 0 and token.output.startswith("pbt_")
    me = anon_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.output.strip()}"})
    assert me.get_json()["username"] == "robot" and me.get_json()["role"] == "operator"
    assert runner.invoke(main, ["token", "create", "--user", "ghost"]).exit_code != 0


def test_support_helper_mints_an_api_token_through_the_cli(settings, anon_client, cli_env):
    from tests.support.auth import cli_api_token
    env = {"PUREBOOT_DATA_DIR": settings.data_dir, "PUREBOOT_DATABASE_URL": settings.database_url}
    token = cli_api_token(env, "ci-admin", "admin")
    assert cli_api_token(env, "ci-admin") != token  # the user exists: just another token
    me = anon_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["username"] == "ci-admin" and me["role"] == "admin"
