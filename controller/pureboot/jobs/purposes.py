"""What a job can be for beyond running its playbook (``Job.purpose``): importing this
module registers each purpose's prepare/finish in ``runner.PURPOSES``. The controller
(jobs/system.py) and every Celery worker (jobs/celery_app.py) import it, so a job runs
the same whichever executor takes it."""

from . import post_install, provision  # noqa: F401  (each registers itself)
