"""The REST API: one blueprint per resource, registered by the app factory."""

from . import (
    agent_files,
    approvals,
    audit,
    auth,
    boot,
    bootcfg,
    credentials,
    events,
    hypervisors,
    job_templates,
    jobs,
    node_logs,
    nodes,
    phone_home,
    projects,
    settings,
    system,
    templates,
    users,
    webhooks,
    workflows,
)

BLUEPRINTS = [system.blp, auth.blp, nodes.blp, node_logs.blp, workflows.blp, templates.blp, hypervisors.blp,
              boot.blp, bootcfg.blp, phone_home.blp, agent_files.blp,
              projects.blp, job_templates.blp, jobs.blp, events.blp, webhooks.blp,
              approvals.blp, audit.blp, users.blp, credentials.blp, settings.blp]
