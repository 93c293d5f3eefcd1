"""Launch -> first event stored: median over 20 launches of a one-task playbook.

    python bench/job_launch.py [--runs 20] [--executors thread,celery] [--database-url URL]

Each launch goes through the API (POST /job_templates/{id}/launch); the clock stops
when the job's first event row is committed in the database. Jobs run one at a time.
"""

from __future__ import annotations

import argparse
import time

from _jobs_env import LOCAL, job_app, stats

from pureboot.models import Job

PLAYBOOK = """- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: hello
"""


def bench(executor: str, runs: int, database_url: str | None, broker: str) -> None:
    with job_app(executor, database_url, broker) as (app, tmp):
        (tmp / "one.yml").write_text(PLAYBOOK)
        client, db = app.test_client(), app.extensions["pureboot.db"]
        template = client.post("/api/v1/job_templates", json={
            "name": f"bench-{executor}", "playbook": str(tmp / "one.yml"),
            "inventory": {"hosts": {"localhost": LOCAL}}}).get_json()
        first_event, total = [], []
        for _ in range(runs + 1):  # the first run warms up (imports, worker pool)
            start = time.perf_counter()
            job_id = client.post(f"/api/v1/job_templates/{template['id']}/launch", json={}).get_json()["job"]
            seen = None
            while True:
                with db.sessions() as session:
                    job = session.get(Job, job_id)
                    if seen is None and job.event_count > 0:
                        seen = time.perf_counter() - start
                    if job.event_processing_finished:
                        break
                time.sleep(0.005)
            assert job.status == "successful", (job.status, job.job_explanation)
            first_event.append(seen)
            total.append(time.perf_counter() - start)
        print(f"{executor:7s} launch -> first event stored: {stats(first_event[1:])}")
        print(f"{executor:7s} launch -> finished, all events stored: {stats(total[1:])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--executors", default="thread,celery")
    parser.add_argument("--database-url")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    for executor in args.executors.split(","):
        bench(executor, args.runs, args.database_url, args.broker)


if __name__ == "__main__":
    main()
