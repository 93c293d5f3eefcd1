"""Settings: built-in defaults, then an optional YAML file, then PUREBOOT_* variables.

Every key can be set in the YAML file (``PUREBOOT_CONFIG=/etc/pureboot.yml``) or in the
environment as ``PUREBOOT_<KEY>`` (upper case). Values from the environment are parsed
as YAML scalars, so ``PUREBOOT_DISCOVERY=false`` is a boolean.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

import yaml


def _default_data_dir() -> str:
    if os.geteuid() == 0:
        return "/var/lib/pureboot"
    return str(Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "pureboot")


@dataclass(frozen=True)
class Settings:
    data_dir: str = field(default_factory=_default_data_dir)
    database_url: str = ""  # empty: SQLite file under data_dir
    secret_key: str = ""  # empty: generated once and kept in data_dir/secret_key
    listen: str = "127.0.0.1:8080"
    public_url: str = ""  # how booting nodes reach the API; empty: http(s)://<listen>
    # HTTPS (both paths, or tls_self_signed: a pair generated once in data_dir/tls).
    tls_cert: str = ""
    tls_key: str = ""
    tls_self_signed: bool = False
    workers: int = 2
    threads: int = 8
    log_level: str = "INFO"
    discovery: bool = True  # register unknown MACs as discovered (PRD Rule E)
    # A discovered node boots the agent once to inventory its hardware, then does this.
    discovery_after_inventory: str = "poweroff"  # poweroff | reboot
    # Boot and check-in (PRD 6.3).
    # seconds an install token must be silent before an anonymous check-in may replace it
    # (unless the boot service saw the node's DHCP that recently): services/tokens.py may_rotate
    token_rotation_grace: int = 600
    install_timeout: int = 1800  # seconds in installing before the watchdog fails the node
    watchdog_interval: int = 60  # seconds between watchdog sweeps in `pureboot serve`; 0: off
    boot_decision_timeout: float = 2.0  # Rule D: slower than this -> answer "boot local"
    boot_files_dir: str = ""  # loaders served at /boot/files/; empty: <data_dir>/tftp
    uefi_local_boot: str = "grub"  # grub: chain a GRUB that boots the disk's ESP; exit: iPXE exit
    # The deploy agent: a full URL, a path under /boot/files/, or empty for the agent that
    # `pureboot agent build` put in <data_dir>/agent (served at /boot/agent/).
    agent_kernel: str = ""
    agent_initrd: str = ""
    agent_cmdline: str = "console=ttyS0 console=tty0"
    report_log_bytes: int = 65536  # install log kept per node (oldest lines dropped)
    page_size_default: int = 25
    page_size_max: int = 200
    max_upload_bytes: int = 64 * 1024**3
    check_migrations: bool = True
    # -- security (PRD 8.2, 12) --
    auth_required: bool = True  # false: anonymous requests act as admin (trusted lab only)
    access_token_minutes: int = 15
    refresh_token_hours: int = 168
    authenticators: str = "local"  # comma list, tried in order (seam for ldap, saml, oauth2)
    approver_roles: str = "admin"  # roles that may approve four-eye requests
    approval_window: int = 3600  # seconds a request stays approvable
    approval_windows: str = ""  # per action, e.g. "node.deprovision=7200,audit.clear=600"
    secret_keys: str = ""  # Fernet keys, comma-separated, first is current; empty: data_dir/secret.keys
    rate_limits_enabled: bool = True
    rate_limit_storage_url: str = "memory://"  # e.g. redis://127.0.0.1:6379/0 for several workers
    rate_limit_login: str = "10/minute"  # per source IP + username
    rate_limit_login_ip: str = "60/minute"  # login and refresh, per source IP (password spraying)
    rate_limit_boot: str = "600/minute"  # open boot endpoints, per source IP
    rate_limit_boot_known: str = "3000/minute"  # boot endpoints, per known MAC
    # Boot services ask for every node of a site from one address: the addresses (or CIDRs)
    # listed here are exempt from the per-address boot limit (the per-MAC limit still holds).
    boot_services: str = "127.0.0.1,::1"
    # Jobs (ansible-runner): "thread" runs them in this process, "celery" hands them to workers.
    job_executor: str = "thread"
    # where job playbooks may come from besides collection FQCNs (comma/colon separated);
    # only the host admin sets it (file/environment), never the API (jobs/policy.py)
    playbook_dirs: str = ""
    job_workers: int = 4  # thread executor: playbooks run at once per controller process
    celery_broker_url: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = "pureboot-jobs"
    job_event_retention_days: int = 30  # events (and artifacts) of older finished jobs are pruned
    job_prune_interval: int = 3600  # seconds between automatic prunes; 0 disables
    job_stdout_max_bytes: int = 1024 * 1024  # above this, stdout only as ?format=txt_download
    job_event_batch_size: int = 500
    webhook_retry_backoff: float = 1.0  # seconds before the 2nd attempt, doubling each time
    # Live events (GET /api/v1/events): kept this long in the event log, then pruned.
    event_retention_hours: float = 72.0
    event_poll_interval: float = 0.5  # seconds between event log polls of each SSE stream

    @property
    def database_uri(self) -> str:
        if self.database_url:
            # psycopg 3 is the driver we ship; accept the plain postgresql:// spelling.
            for plain in ("postgresql://", "postgres://"):
                if self.database_url.startswith(plain):
                    return "postgresql+psycopg://" + self.database_url[len(plain):]
            return self.database_url
        return f"sqlite:///{Path(self.data_dir) / 'pureboot.db'}"

    @property
    def boot_files_path(self) -> Path:
        return Path(self.boot_files_dir or Path(self.data_dir) / "tftp")

    @property
    def base_url(self) -> str:
        """How booting nodes reach this controller (no trailing slash)."""
        scheme = "https" if self.tls_cert or self.tls_self_signed else "http"
        return (self.public_url or f"{scheme}://{self.listen}").rstrip("/")

    @property
    def templates_dir(self) -> Path:
        return Path(self.data_dir) / "templates"

    def with_overrides(self, **overrides: Any) -> "Settings":
        return replace(self, **_coerce(overrides))


#: Settings that take one of a few words.
CHOICES: dict[str, tuple[str, ...]] = {
    "discovery_after_inventory": ("poweroff", "reboot"),
}


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = type(getattr(Settings(data_dir="/"), key))
        if isinstance(value, str) and kind is not str:
            value = yaml.safe_load(value)
        if kind is bool and not isinstance(value, bool):
            raise ValueError(f"setting {key} must be true or false, got {value!r}")
        if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"setting {key} must be an integer, got {value!r}")
        if kind is float and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise ValueError(f"setting {key} must be a number, got {value!r}")
        if key in CHOICES and value not in CHOICES[key]:
            raise ValueError(f"setting {key} must be one of {', '.join(CHOICES[key])}, got {value!r}")
        out[key] = kind(value) if kind is str else value
    return out


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults < YAML file (PUREBOOT_CONFIG) < environment < explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = environ.get("PUREBOOT_CONFIG")
    if path:
        with open(path, encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping of settings")
        values.update(loaded)
    names = {f.name for f in fields(Settings)}
    for key, value in environ.items():
        if key.startswith("PUREBOOT_") and key[9:].lower() in names:
            values[key[9:].lower()] = value
    values.update(overrides or {})
    return Settings().with_overrides(**values)
