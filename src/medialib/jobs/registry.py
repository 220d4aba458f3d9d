"""One handler per job name, checked when a worker starts (immich's rule: a missing or
doubled handler stops the process instead of leaving jobs to rot).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from medialib.jobs.names import JobName
from medialib.jobs.payloads import PAYLOAD_OF, JobOutcome, JobPayload
from medialib.runtime import Runtime

# What a handler works with: the process's settings, database, store and scanner.
JobContext = Runtime

P = TypeVar("P", bound=JobPayload)
# A handler gets its job's typed payload (jobs/payloads.py) and says what it did (None:
# done); raising means the attempt failed and is retried.
Handler = Callable[[JobContext, P], JobOutcome | None]
# Called once when every attempt has failed, so the subject never stays in limbo.
GiveUp = Callable[[JobContext, P, str], None]


@dataclass(frozen=True, slots=True)
class JobSpec(Generic[P]):
    payload: type[P]
    handle: Handler[P]
    give_up: GiveUp[P]


class RunLater(Exception):
    """Raised by a handler whose subject is not ready or whose peer said "later" (a rate
    limit's Retry-After): the attempt counts, and the next one runs after `delay_seconds`
    instead of the usual back-off."""

    def __init__(self, reason: str, *, delay_seconds: float) -> None:
        super().__init__(reason)
        self.delay_seconds = max(0.0, delay_seconds)


class DuplicateHandler(RuntimeError):
    pass


class MissingHandlers(RuntimeError):
    pass


class JobRegistry:
    def __init__(self) -> None:
        self._specs: dict[JobName, JobSpec[Any]] = {}

    def register(
        self, name: JobName, payload: type[P], *, give_up: GiveUp[P]
    ) -> Callable[[Handler[P]], Handler[P]]:
        """`payload` must be the job's model in `PAYLOAD_OF` (checked here, at import)."""
        if PAYLOAD_OF[name] is not payload:
            raise TypeError(f"{name} carries {PAYLOAD_OF[name].__name__}, not {payload.__name__}")

        def decorator(handle: Handler[P]) -> Handler[P]:
            if name in self._specs:
                raise DuplicateHandler(name)
            self._specs[name] = JobSpec(payload=payload, handle=handle, give_up=give_up)
            return handle

        return decorator

    def spec(self, name: str) -> JobSpec[Any]:
        return self._specs[JobName(name)]

    def check_complete(self) -> None:
        missing = [name for name in JobName if name not in self._specs]
        if missing:
            raise MissingHandlers(", ".join(missing))


# Filled by each domain's tasks module as it is imported; `medialib.tasks.load_handlers`
# imports them all and checks the registry is complete.
registry = JobRegistry()
