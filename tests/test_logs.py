"""Logs: a request id on every answer and on every record of the request and of the jobs
it caused (over real HTTP, a real worker), JSON lines for a collector, and ids a client
cannot use to forge or break a log line."""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path
from typing import TextIO

import httpx
import pytest

from medialib import logs
from tests.helpers import eventually, upload_file, wait_settled


def test_a_request_id_follows_a_media_from_its_upload_through_its_jobs(
    api: httpx.Client, files: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api.headers["X-Request-Id"] = "trace-upload-42"
    try:
        media = upload_file(api, files / "clip.mp4")
    finally:
        del api.headers["X-Request-Id"]
    wait_settled(api, media["id"], timeout=60)

    def job_records() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.name == "medialib.jobs.executor" and getattr(r, "media_id", None) == media["id"]
        ]

    eventually(lambda: bool(job_records()), timeout=30)
    assert {getattr(r, "request_id", None) for r in job_records()} == {"trace-upload-42"}
    access = [
        r
        for r in caplog.records
        if r.name == "medialib.access" and getattr(r, "request_id", None) == "trace-upload-42"
    ]
    assert access and all(getattr(r, "status", 0) < 400 for r in access)


def test_every_answer_carries_its_id_and_an_unusable_one_is_replaced(api: httpx.Client) -> None:
    given = api.get("/v1/media", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = api.get("/v1/media")
    assert made.headers["x-request-id"].startswith("req_")
    assert made.headers["x-request-id"] != api.get("/v1/media").headers["x-request-id"]
    for hostile in ("x" * 65, "a b", '{"level":"error"}', "é".encode()):
        answer = api.get("/v1/media", headers={"X-Request-Id": hostile})
        assert answer.headers["x-request-id"].startswith("req_"), hostile
    refused = httpx.get(f"{api.base_url}/v1/media")  # no key: still an id
    assert refused.status_code == 401 and refused.headers["x-request-id"].startswith("req_")


def test_json_lines_carry_the_context_and_the_extras() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.logs.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with logs.context("req_1", media_id="med_1"):
            logger.warning("made %s", "a variant", extra={"status": 201})
        logger.warning('outside "quoted"\nand two lines')
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "made a variant" and inside["level"] == "warning"
    assert (inside["request_id"], inside["media_id"], inside["status"]) == ("req_1", "med_1", 201)
    assert "request_id" not in outside and outside["message"].endswith("two lines")


def test_plain_lines_show_the_context_and_survive_records_made_elsewhere() -> None:
    formatter = logs.TextFormatter()
    with logs.context("req_9", job="media.process"):
        inside = logging.getLogger("tests.logs").makeRecord(
            "tests.logs", logging.INFO, __file__, 1, "hello", None, None
        )
    assert formatter.format(inside).endswith(
        "tests.logs [request_id=req_9 job=media.process]: hello"
    )
    outside = logging.makeLogRecord({"name": "x", "msg": "plain", "levelname": "INFO"})
    assert formatter.format(outside).endswith("x: plain")


def test_a_request_cannot_forge_a_log_line() -> None:
    """An encoded newline in a URL path (or a filename) stays on its record's line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.TextFormatter())
    logger = logging.getLogger("tests.logs.forged")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "GET %s 404", "/v1/media/x\n2026-12-06 INFO medialib: admin key rotated\r\x1b[2K"
        )
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "\\n2026-12-06" in lines[0] and "\\x1b" in lines[0]


def test_serve_with_json_logs_writes_only_json_lines_and_never_the_key(tmp_path: Path) -> None:
    from tests.processes import ServeProcess, env_for

    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", MEDIALIB_LOG_FORMAT="json")
    server = ServeProcess(env)
    try:
        httpx.get(f"{server.base_url}/v1/media/x%0Ay", timeout=5)
        eventually(server.output, lambda text: "/v1/media/" in text, what="the access line")
    finally:
        server.stop()
    lines = [line for line in server.output().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # each line is one JSON object
    assert any(r["message"] == "medialib is starting" for r in records)
    key = (tmp_path / "first-api-key.txt").read_text().strip()
    assert key.startswith("mlk_") and key not in server.output()


def test_a_server_whose_output_nobody_reads_keeps_serving(tmp_path: Path) -> None:
    """Standard output a pipe nobody reads (a stopped pager, a stalled log shipper): once
    it is full, lines wait for the writer (past 10,000 they are dropped and counted) and
    requests are answered as before (a write there stopped the event loop at the pipe's
    64 KiB)."""
    import subprocess

    from tests.processes import ServeProcess, env_for

    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = env_for(tmp_path, database, MEDIALIB_RATE_LIMIT_PER_MINUTE="0")
    server = ServeProcess(env, stdout=subprocess.PIPE)
    try:
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            for _ in range(1_500):  # an access line each: about 150 KB of lines
                assert client.get("/v1/media").status_code == 401
            assert client.get("/healthz").status_code == 200
    finally:
        server.kill()
        assert server.process.stdout is not None
        server.process.stdout.close()


def _background(stream: TextIO, **options: int) -> logging.Logger:
    logger = logging.getLogger(f"tests.logs.background.{id(stream)}")
    logger.handlers[:] = [logs.BackgroundLines(stream, logs.JsonFormatter(), **options)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_lines_written_in_background_keep_their_order_and_their_context() -> None:
    stream = io.StringIO()
    logger = _background(stream)
    with logs.context("req_7", media_id="med_7"):
        for number in range(2_000):
            logger.info("line %d", number)
    logger.handlers[0].close()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["message"] for r in records] == [f"line {n}" for n in range(2_000)]
    assert all(r["request_id"] == "req_7" and r["media_id"] == "med_7" for r in records)


class _StuckStream(io.StringIO):
    """Standard output nobody reads: a write waits until `unstick` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.unstick = threading.Event()

    def write(self, text: str) -> int:
        self.unstick.wait(30)
        return super().write(text)


def test_a_stuck_output_never_stops_the_logger_and_keeps_a_bounded_count() -> None:
    stream = _StuckStream()
    logger = _background(stream, most_waiting=50)
    for number in range(5_000):
        logger.warning("line %d", number)
    # Every call returned while the writer's first write was still stuck (it returns only
    # once unstuck, or after 30 s): no logging call waits for the output.
    assert stream.getvalue() == ""
    stream.unstick.set()
    logger.handlers[0].close()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    written = [r for r in records if r["logger"] != "medialib.logs"]
    notices = [r for r in records if r["logger"] == "medialib.logs"]
    # At most the waiting lines and the one batch the writer held when it stuck.
    assert len(written) <= 50 + logs._LINES_PER_WRITE + 1 and written[0]["message"] == "line 0"
    dropped = sum(int(r["message"].split()[0]) for r in notices)
    assert notices[0]["level"] == "warning" and "dropped" in notices[0]["message"]
    assert len(written) + dropped == 5_000


def test_a_line_the_output_cannot_encode_is_escaped_and_the_others_kept() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    logger = _background(stream)
    logger.info("before")
    logger.info("café.jpg uploaded")
    logger.info("after")
    logger.handlers[0].close()
    lines = raw.getvalue().decode("ascii").splitlines()
    assert "\\u00e9" in lines[1]  # escaped as JSON escapes it: the line stays JSON
    messages = [json.loads(line)["message"] for line in lines]
    assert messages == ["before", "café.jpg uploaded", "after"]
