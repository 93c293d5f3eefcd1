"""Run a small database read with a deadline: boot endpoints must answer in bounded time
(Rule D) even when the database is locked or down, so side lookups never block them."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable, TypeVar

log = logging.getLogger("pureboot.deadline")
T = TypeVar("T")
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="pb-deadline")


def within(seconds: float, fn: Callable[[], T], default: T, what: str) -> T:
    """fn() if it finishes within `seconds` without raising, else `default` (logged)."""
    future = _pool.submit(fn)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        log.warning("%s took longer than %ss; going on without it", what, seconds)
    except Exception as exc:  # noqa: BLE001 - a side lookup must never fail the request
        log.warning("%s failed (%s); going on without it", what, type(exc).__name__)
    return default
