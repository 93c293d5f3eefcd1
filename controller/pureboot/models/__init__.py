"""All tables; import from here so every mapper is configured together."""

from .approval import APPROVAL_STATUSES, Approval
from .audit import GENESIS, AuditEntry, AuditHead
from .base import Base, utcnow
from .credential import CREDENTIAL_KINDS, Credential
from .event import EventLog
from .hypervisor import PROVIDERS, Hypervisor
from .job import Job, JobEvent, JobTemplate, NodeKey, Webhook
from .log import Log
from .node import Node, NodeEvent
from .project import PROJECT_STATUSES, SCM_TYPES, Project
from .setting import SystemSetting
from .template import TEMPLATE_KINDS, Template
from .user import ROLES, ApiToken, User
from .workflow import Task, Workflow, WorkflowVersion

__all__ = ["Base", "utcnow", "Node", "NodeEvent", "Workflow", "WorkflowVersion", "Task",
           "Template", "TEMPLATE_KINDS", "Hypervisor", "PROVIDERS", "Log",
           "User", "ApiToken", "ROLES", "Approval", "APPROVAL_STATUSES", "AuditEntry", "AuditHead",
           "GENESIS", "Credential", "CREDENTIAL_KINDS", "SystemSetting",
           "JobTemplate", "Job", "JobEvent", "NodeKey", "Webhook", "EventLog",
           "Project", "PROJECT_STATUSES", "SCM_TYPES"]
