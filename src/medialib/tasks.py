"""Every domain's job handlers, gathered: a worker (or `serve`, or the broker's
publisher) calls `load_handlers` to have them registered and checked complete."""

from __future__ import annotations

from medialib.jobs.registry import JobRegistry, registry


def load_handlers() -> JobRegistry:
    """Import every module that registers handlers, then check none is missing."""
    import medialib.generate.tasks
    import medialib.media.tasks
    import medialib.publishing.tasks
    import medialib.variants.tasks
    import medialib.webhooks.tasks  # noqa: F401

    registry.check_complete()
    return registry
