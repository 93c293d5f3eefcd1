"""Event ingest: a playbook producing ~10,000 events; events/s stored and the lag
between the playbook's end (job.finished) and event_processing_finished.

    python bench/job_events.py [--events 10000] [--executors thread,celery] [--database-url URL]
"""

from __future__ import annotations

import argparse
import time

from _jobs_env import LOCAL, job_app
from sqlalchemy import func, select

from pureboot.models import Job, JobEvent

PLAYBOOK = """- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "item {{ item }}"
      loop: "{{ range(0, count | int) | list }}"
"""


def bench(executor: str, events: int, database_url: str | None, broker: str) -> None:
    with job_app(executor, database_url, broker) as (app, tmp):
        (tmp / "many.yml").write_text(PLAYBOOK)
        client, db = app.test_client(), app.extensions["pureboot.db"]
        template = client.post("/api/v1/job_templates", json={
            "name": f"bench-{executor}", "playbook": str(tmp / "many.yml"),
            "inventory": {"hosts": {"localhost": LOCAL}},
            "extra_vars": {"count": events}}).get_json()
        start = time.perf_counter()
        job_id = client.post(f"/api/v1/job_templates/{template['id']}/launch", json={}).get_json()["job"]
        first = None
        while True:
            with db.sessions() as session:
                job = session.get(Job, job_id)
                if first is None and job.event_count:
                    first = time.perf_counter()
                if job.event_processing_finished:
                    break
            time.sleep(0.01)
        done = time.perf_counter()
        with db.sessions() as session:
            stored = session.scalar(select(func.count()).where(JobEvent.job_id == job_id))
            distinct = session.scalar(select(func.count(func.distinct(JobEvent.counter)))
                                      .where(JobEvent.job_id == job_id))
            top = session.scalar(select(func.max(JobEvent.counter)).where(JobEvent.job_id == job_id))
        assert job.status == "successful", job.job_explanation
        lag = (job.events_finished_at - job.finished).total_seconds()
        print(f"{executor:7s} {stored} events stored (distinct counters {distinct}, max counter {top}: "
              f"{'none lost or duplicated' if stored == distinct == top else 'MISMATCH'})")
        print(f"{executor:7s} playbook run {job.elapsed:.2f} s; launch -> all stored {done - start:.2f} s; "
              f"ingest {stored / (done - first):.0f} events/s (first stored -> last stored; "
              "bounded by how fast ansible-playbook emits them)")
        print(f"{executor:7s} lag job finished -> event_processing_finished: {lag * 1000:.0f} ms")


def writer_capacity(events: int, database_url: str | None) -> None:
    """The bulk writer alone: synthetic runner events queued as fast as possible."""
    from pureboot.jobs.writer import EventWriter
    with job_app("thread", database_url, "") as (app, tmp):
        db = app.extensions["pureboot.db"]
        with db.session() as session:
            job = Job(name="synthetic", playbook="-", launched_by="bench", status="running")
            session.add(job)
        writer = EventWriter(db, job.id)
        start = time.perf_counter()
        for i in range(1, events + 1):
            writer.handler({"counter": i, "event": "runner_item_on_ok", "uuid": f"{i:036d}",
                            "stdout": f"ok: [localhost] => (item={i})", "start_line": i, "end_line": i + 1,
                            "event_data": {"host": "localhost", "task": "loop", "play": "bench",
                                           "res": {"msg": f"item {i}", "changed": False}}})
        writer.close()
        elapsed = time.perf_counter() - start
        print(f"writer  {events} synthetic events stored in {elapsed:.2f} s: {events / elapsed:.0f} events/s "
              f"(batches of {writer.batch_size}, one commit per batch)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--executors", default="thread,celery")
    parser.add_argument("--database-url")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--writer-only", action="store_true", help="only the writer's capacity")
    args = parser.parse_args()
    writer_capacity(args.events, args.database_url)
    for executor in [] if args.writer_only else args.executors.split(","):
        bench(executor, args.events, args.database_url, args.broker)


if __name__ == "__main__":
    main()
