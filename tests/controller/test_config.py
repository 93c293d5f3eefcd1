import pytest

from pureboot.config import load_settings


def test_precedence_defaults_yaml_env_overrides(tmp_path):
    path = tmp_path / "pureboot.yml"
    path.write_text("listen: 0.0.0.0:9000\ndiscovery: false\nworkers: 3\n")
    env = {"PUREBOOT_CONFIG": str(path), "PUREBOOT_WORKERS": "5", "PUREBOOT_DATA_DIR": str(tmp_path)}
    settings = load_settings({"log_level": "DEBUG"}, environ=env)
    assert (settings.listen, settings.discovery, settings.workers, settings.log_level) == \
        ("0.0.0.0:9000", False, 5, "DEBUG")
    assert settings.database_uri == f"sqlite:///{tmp_path / 'pureboot.db'}"


def test_postgres_url_uses_psycopg3():
    settings = load_settings(environ={"PUREBOOT_DATABASE_URL": "postgresql://u@h/db", "PUREBOOT_DATA_DIR": "/x"})
    assert settings.database_uri == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("env,message", [
    ({"PUREBOOT_WORKERS": "many"}, "workers"),
    ({"PUREBOOT_DISCOVERY": "perhaps"}, "discovery"),
    ({"PUREBOOT_EVENT_POLL_INTERVAL": "fast"}, "event_poll_interval"),
])
def test_bad_values_are_named(env, message):
    with pytest.raises(ValueError, match=message):
        load_settings(environ={"PUREBOOT_DATA_DIR": "/x", **env})


def test_unknown_key_in_yaml_is_an_error(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("colour: blue\n")
    with pytest.raises(ValueError, match="colour"):
        load_settings(environ={"PUREBOOT_CONFIG": str(path)})
