"""Rule D in the controller: a database that does not answer in time -> boot local."""

import threading
import time

from sqlalchemy import create_engine

from pureboot.config import Settings

from .conftest import MAC, register


def _hold_lock(database_url, locked, release):
    """Lock the nodes table from another connection until `release` is set."""
    engine = create_engine(Settings(data_dir="/", database_url=database_url).database_uri)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
        else:
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("LOCK TABLE nodes IN ACCESS EXCLUSIVE MODE")
        locked.set()
        release.wait(30)
        conn.exec_driver_sql("ROLLBACK")
    engine.dispose()


def test_slow_database_answers_local_within_the_deadline(make_app, database_url, workflow):
    client = make_app(boot_decision_timeout=0.5).test_client()
    register(client, MAC, workflow["id"])
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(database_url, locked, release))
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        script = client.get(f"/boot/ipxe?mac={MAC}").get_data(as_text=True)
        elapsed = time.monotonic() - started
        body = client.get(f"/api/v1/next?mac={MAC}").get_json()
    finally:
        release.set()
        holder.join(30)
    assert "sanboot --no-describe --drive 0x80" in script and "kernel " not in script
    assert "controller unavailable" in script
    assert body["action"] == "local" and "Rule D" in body["reason"]
    assert elapsed < 5
