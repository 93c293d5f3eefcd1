"""Clone a project's git repository with the git CLI: no shell, bounded time, no prompts.

Every sync clones afresh (shallow) next to the checkout and swaps it in, so a changed URL
or branch, a force-push or a damaged checkout never leaves a half-updated tree. Only
https, ssh, git and file transports are allowed, for the clone and anything it pulls in
(GIT_ALLOW_PROTOCOL), so ``ext::`` (runs a command) and friends are refused by git too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

SCHEMES = ("https", "ssh", "git", "file")
SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/\\].*$")  # git@host:org/repo.git (ssh)
BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,255}$")
TIMEOUT = 300  # seconds per git command


class SyncError(Exception):
    """git could not sync; the message is git's own (without credentials)."""


def url_problem(url: str) -> str:
    """Why `url` is not an acceptable repository address ('' when it is)."""
    if not url or url.startswith("-") or any(c.isspace() or ord(c) < 32 for c in url):
        return "give a repository URL (https://, ssh://, git://, file:// or user@host:path)"
    if SCP_LIKE.match(url):
        return ""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        return f"scheme {parts.scheme or '(none)'!r} is not allowed; use one of {', '.join(SCHEMES)}"
    if parts.password:
        return "do not put a password in the URL (it would be stored and shown)"
    if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        return "a file:// URL needs an absolute path (file:///srv/git/repo.git)"
    if parts.scheme != "file" and (not parts.hostname or parts.hostname.startswith("-")):
        return "the URL names no host"  # a host starting with '-' would be an ssh option
    return ""


def branch_problem(branch: str) -> str:
    return "" if not branch or BRANCH.match(branch) else "not a valid branch or tag name"


def sync(url: str, branch: str, checkout: Path) -> str:
    """Make `checkout` a fresh clone of `url` at `branch`; returns the commit id."""
    checkout.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=f".{checkout.name}-", dir=checkout.parent))
    try:
        args = ["clone", "--quiet", "--depth", "1", "--no-recurse-submodules"]
        if branch:
            args += ["--branch", branch]
        _git(args + ["--", url, str(staging / "tree")])
        revision = _git(["-C", str(staging / "tree"), "rev-parse", "HEAD"]).strip()
        _swap(staging / "tree", checkout, staging / "old")
        return revision
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(new: Path, checkout: Path, old: Path) -> None:
    if checkout.exists():
        checkout.rename(old)
    new.rename(checkout)


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/nonexistent"),
            "LANG": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": ":".join(SCHEMES),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}


def _git(args: list[str]) -> str:
    try:
        done = subprocess.run(["git", *args], env=_env(), capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise SyncError("the git command is not installed on the controller") from None
    except subprocess.TimeoutExpired:
        raise SyncError(f"git {args[0]} did not finish within {TIMEOUT} seconds") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip() or f"git {args[0]} failed (rc {done.returncode})"
        raise SyncError(_without_credentials(message)[-2000:])
    return done.stdout


def _without_credentials(text: str) -> str:
    return re.sub(r"(\w+://)[^/@\s]+@", r"\1***@", text)
