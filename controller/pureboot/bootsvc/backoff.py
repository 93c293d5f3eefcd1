"""Error states for the boot service's loops: log on change only, back off while failing.

A loop that hits the same error on every iteration (a broken socket, a controller that
is down) would otherwise log it ten times a second. ``ErrorLog`` logs one line when an
error state starts or changes and one when it is over; ``Backoff`` adds an exponential
delay, capped, for the loop to wait between attempts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable


def error_key(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class ErrorLog:
    """One log line per distinct error state, one when it recovers.

    Recovery needs ``healthy_after`` seconds without a failure, so an error that comes
    and goes on alternate iterations stays one state instead of two lines per cycle.
    """

    def __init__(self, what: str, log: logging.Logger, healthy_after: float = 5.0, *,
                 level: int = logging.ERROR, traceback: bool = True):
        self.what, self.log, self.healthy_after = what, log, healthy_after
        self.level, self.traceback = level, traceback  # traceback: at DEBUG, once per state
        self.failures = 0  # in the current error state
        self._state: str | None = None
        self._last_failure = 0.0
        self._lock = threading.Lock()

    @property
    def failing(self) -> bool:
        return self._state is not None

    def failed(self, exc: BaseException, key: str | None = None) -> None:
        """`key` names the error state (default: type and message of `exc`)."""
        key = key or error_key(exc)
        with self._lock:
            self.failures += 1
            self._last_failure = time.monotonic()
            changed, self._state = key != self._state, key
        if changed:
            self.log.log(self.level, "%s failing: %s%s", self.what, key, self._retry_note())
            if self.traceback:
                self.log.debug("%s failure detail", self.what, exc_info=exc)

    def ok(self) -> None:
        """Call when an attempt went fine; logs the recovery once it has lasted."""
        with self._lock:
            if self._state is None or time.monotonic() - self._last_failure < self.healthy_after:
                return
            failures, self._state, self.failures = self.failures, None, 0
        self.log.info("%s recovered after %d failure(s)", self.what, failures)

    def _retry_note(self) -> str:
        return ""


class Backoff(ErrorLog):
    """ErrorLog plus the delay before the next attempt: first, 2*first, ... up to cap."""

    def __init__(self, what: str, log: logging.Logger, first: float = 0.1, cap: float = 30.0,
                 healthy_after: float = 5.0):
        super().__init__(what, log, healthy_after)
        self.first, self.cap = first, cap

    @property
    def delay(self) -> float:
        if not self.failures:
            return 0.0
        return min(self.cap, self.first * 2 ** min(self.failures - 1, 64))

    def wait(self, stop: threading.Event) -> bool:
        """Sleep the current delay; False when `stop` was set meanwhile."""
        return not stop.wait(self.delay)

    def run(self, stop: threading.Event, step: Callable[[], None],
            errors: tuple[type[BaseException], ...] = (Exception,)) -> None:
        """Call `step` until `stop` is set. A step that raises one of `errors` (a broken
        socket) is logged and retried after the delay: a receive loop never spins or dies."""
        while not stop.is_set():
            try:
                step()
            except errors as exc:
                if stop.is_set():
                    return
                self.failed(exc)
                self.wait(stop)
                continue
            self.ok()

    def _retry_note(self) -> str:
        return f"; retrying with backoff (up to {self.cap:g} s apart), logged again only if it changes"
