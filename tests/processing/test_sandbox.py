"""The decoder sandbox: limits hold, and a child that hangs or dies is an error, not a hang."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from medialib.errors import MediaProcessingFailed
from medialib.processing.sandbox import run_child


def answer(args: list[str]) -> dict[str, Any]:
    return {"pid": os.getpid(), "args": args}


def hang(_: list[str]) -> dict[str, Any]:
    time.sleep(60)
    return {}


def die(_: list[str]) -> dict[str, Any]:
    os._exit(9)


def hog_memory(_: list[str]) -> dict[str, Any]:
    hoard = bytearray(600 * 1024 * 1024)  # over the 256 MiB address-space limit below
    return {"size": len(hoard)}


def test_child_runs_in_another_process_and_returns_its_answer() -> None:
    result = run_child(answer, "a", "b", timeout_seconds=30)
    assert result["args"] == ["a", "b"] and result["pid"] != os.getpid()


def test_hanging_child_is_killed_at_its_time_out() -> None:
    started = time.monotonic()
    with pytest.raises(MediaProcessingFailed) as raised:
        run_child(hang, timeout_seconds=1)
    assert raised.value.details["reason"] == "timeout"
    assert time.monotonic() - started < 10


def test_child_that_dies_is_a_clean_failure() -> None:
    with pytest.raises(MediaProcessingFailed) as raised:
        run_child(die, timeout_seconds=30)
    assert "status 9" in raised.value.details["reason"]


def test_memory_limit_holds_in_the_child() -> None:
    with pytest.raises(MediaProcessingFailed) as raised:
        run_child(hog_memory, timeout_seconds=30, memory_bytes=256 * 1024 * 1024)
    assert "MemoryError" in raised.value.details["reason"]
