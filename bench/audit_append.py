"""Audit-log append throughput: the chain serialises appenders, how fast is it?

    python bench/audit_append.py                        # SQLite in a temp dir
    python bench/audit_append.py postgresql://user@host/db
Prints appends/second for 1 thread and for 8 concurrent threads, then verifies the chain.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time

from pureboot.app import create_app
from pureboot.migrate import upgrade
from pureboot.services import audit


def run(app, threads: int, per_thread: int) -> float:
    def work(n):
        with app.app_context():
            for i in range(per_thread):
                audit.record("bench.append", actor=f"bench{n}", details={"i": i})

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * per_thread / (time.perf_counter() - start)


def main() -> None:
    data = tempfile.mkdtemp(prefix="pureboot-bench-")
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{data}/bench.db"
    app = create_app({"data_dir": data, "database_url": url, "check_migrations": False})
    upgrade(app.config["PUREBOOT"].database_uri)
    print(f"backend: {app.extensions['pureboot.db'].engine.dialect.name}")
    print(f"1 thread : {run(app, 1, 500):8.0f} appends/s")
    print(f"8 threads: {run(app, 8, 100):8.0f} appends/s")
    with app.app_context(), app.extensions["pureboot.db"].session() as session:
        start = time.perf_counter()
        result = audit.verify(session)
        print(f"verify   : {result.checked} entries in {time.perf_counter() - start:.2f} s, ok={result.ok}")


if __name__ == "__main__":
    main()
