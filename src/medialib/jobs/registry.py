"""One handler per job name, checked when a worker starts (immich's rule: a missing or
doubled handler stops the process instead of leaving jobs to rot).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medialib.jobs.names import JobName
from medialib.runtime import Runtime

# What a handler works with: the process's settings, database, store and scanner.
JobContext = Runtime

Handler = Callable[[JobContext, dict[str, Any]], None]
GiveUp = Callable[[JobContext, dict[str, Any], str], None]


@dataclass(frozen=True, slots=True)
class JobSpec:
    handle: Handler
    # Called once when every attempt has failed, so the subject never stays in limbo.
    give_up: GiveUp


class DuplicateHandler(RuntimeError):
    pass


class MissingHandlers(RuntimeError):
    pass


class JobRegistry:
    def __init__(self) -> None:
        self._specs: dict[JobName, JobSpec] = {}

    def register(self, name: JobName, *, give_up: GiveUp) -> Callable[[Handler], Handler]:
        def decorator(handle: Handler) -> Handler:
            if name in self._specs:
                raise DuplicateHandler(name)
            self._specs[name] = JobSpec(handle=handle, give_up=give_up)
            return handle

        return decorator

    def spec(self, name: str) -> JobSpec:
        return self._specs[JobName(name)]

    def check_complete(self) -> None:
        missing = [name for name in JobName if name not in self._specs]
        if missing:
            raise MissingHandlers(", ".join(missing))


# Filled by each domain's tasks module as it is imported; `medialib.tasks.load_handlers`
# imports them all and checks the registry is complete.
registry = JobRegistry()
