"""Bulkhead and circuit breaker per provider, per process: a slow or dead upstream gets a fast refusal
instead of every thread of the process.

- Bulkhead: at most `max_in_flight` calls to one provider at once in this process. A caller that finds
  it full waits up to its `patience` (0 in web requests: refuse at once) and then gets ProviderBusy.
- Breaker: `failures` failed calls in a row (timeouts, connection errors, HTTP 5xx) open it; while open,
  calls are refused with ProviderCircuitOpen without being sent. After `reset_seconds` it is half-open:
  one trial call goes through; its success closes the breaker, its failure opens it again.

Both refusals subclass ProviderUnavailable: nothing was sent, so nothing needs reconciling. State lives in
the process (threads share it); several processes each keep their own, so the limit across a deployment
is `max_in_flight` x processes (README: Deployment).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import ProviderBusy, ProviderCircuitOpen

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

# How long a caller in this context may wait for a free slot (the worker waits, a web request does not).
_patience: ContextVar[float] = ContextVar("provider_guard_patience", default=0.0)
# Guards whose slot this context already holds (a caller that took a slot before charging, e.g. an OTP
# order, makes its calls inside it without taking a second one).
_held: ContextVar[frozenset[str]] = ContextVar("provider_guard_held", default=frozenset())


@dataclass(frozen=True)
class GuardLimits:
    max_in_flight: int = 4
    failures: int = 5
    reset_seconds: float = 30.0


class ProviderGuard:
    def __init__(self, key: str, label: str, limits: GuardLimits) -> None:
        self.key, self.label = key, label
        self.limits = limits
        self._slots = threading.BoundedSemaphore(max(limits.max_in_flight, 1))
        self._lock = threading.Lock()
        self._in_flight = 0
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False  # half-open: the one trial call is out

    # --- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        with self._lock:
            return self._state(time.monotonic())

    def _state(self, now: float) -> str:
        if self._opened_at is None:
            return CLOSED
        return OPEN if now - self._opened_at < self.limits.reset_seconds else HALF_OPEN

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def admit(self) -> bool:
        """May a call go out now? Takes the half-open trial when that is what lets it through.
        Returns True when the caller took the trial (it must `record` or `release_trial`)."""
        with self._lock:
            state = self._state(time.monotonic())
            if state == CLOSED:
                return False
            if state == HALF_OPEN and not self._trial:
                self._trial = True
                return True
        raise ProviderCircuitOpen(
            "provider is failing; calls are paused for a moment (circuit breaker open)", provider=self.label
        )

    def release_trial(self) -> None:
        with self._lock:
            self._trial = False

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures, self._opened_at, self._trial = 0, None, False
                return
            self._failures += 1
            if self._trial or self._failures >= self.limits.failures:
                self._opened_at, self._trial = time.monotonic(), False

    # --- slots ---------------------------------------------------------------------------------
    def holds(self) -> bool:
        return self.key in _held.get()

    @contextmanager
    def slot(self, *, bulkhead: bool = True, patience: float | None = None) -> Iterator[None]:
        """Hold one call slot (and the breaker's permission) for the duration of the block. Raises
        ProviderBusy or ProviderCircuitOpen before anything is sent. `bulkhead=False` is for a caller
        that bounds its own concurrency (the submitter's lanes) and wants only the breaker. Inside a slot of
        the same guard it is a no-op."""
        if self.holds():
            yield
            return
        wait = _patience.get() if patience is None else patience
        if bulkhead and not (self._slots.acquire(timeout=wait) if wait > 0 else self._slots.acquire(blocking=False)):
            raise ProviderBusy(
                f"{self.limits.max_in_flight} calls already in flight to this provider", provider=self.label
            )
        try:
            trial = self.admit()
        except ProviderCircuitOpen:
            if bulkhead:
                self._slots.release()
            raise
        with self._lock:
            self._in_flight += 1
        token = _held.set(_held.get() | {self.key})
        try:
            yield
        finally:
            _held.reset(token)
            with self._lock:
                self._in_flight -= 1
                if trial and self._trial:  # the trial slot was taken but no call recorded an outcome
                    self._trial = False
            if bulkhead:
                self._slots.release()


_registry: dict[str, ProviderGuard] = {}
_registry_lock = threading.Lock()


def guard_for(key: str, label: str = "", limits: GuardLimits | None = None) -> ProviderGuard:
    """The process-wide guard of one provider; rebuilt when its limits change."""
    limits = limits or GuardLimits()
    with _registry_lock:
        guard = _registry.get(key)
        if guard is None or guard.limits != limits:
            guard = _registry[key] = ProviderGuard(key, label or key, limits)
        return guard


def guards() -> dict[str, ProviderGuard]:
    with _registry_lock:
        return dict(_registry)


def reset_guards() -> None:
    """Forget every guard (tests; a process that must start fresh)."""
    with _registry_lock:
        _registry.clear()


@contextmanager
def patience(seconds: float) -> Iterator[None]:
    """Let calls made in this block wait up to `seconds` for a free slot (background work)."""
    token = _patience.set(max(seconds, 0.0))
    try:
        yield
    finally:
        _patience.reset(token)
