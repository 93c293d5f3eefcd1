"""Jobs: AWX-style job templates and jobs run through ansible-runner.

- ``service``: launch, cancel, relaunch, status changes, prune, restart recovery
- ``runner``: one job run (ansible-runner run_async, own cancel callback, no env files)
- ``writer``: the bulk event writer (event_handler -> queue -> batched inserts)
- ``executor``: where runs happen (in-process threads) and ``celery_app`` (Celery workers)
- ``post_install``: post-install playbooks on phone-home with an ephemeral SSH key
"""
