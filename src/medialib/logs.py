"""Logging: plain lines on a laptop, one JSON object a line in production
(`MEDIALIB_LOG_FORMAT=json`), and a request id on every record logged while serving a
request or running a job it caused: a media can be followed from its upload through its
jobs (`grep req_…`).

The id comes from the client's `X-Request-Id` when it is a sane token, else is made
here; it goes back in the answer's `X-Request-Id`, into the payload of every job the
request enqueues, and from there into the job's records.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import itertools
import json
import logging
import re
import secrets
import sys
from collections.abc import Iterator
from typing import Any, Literal

LogFormat = Literal["text", "json"]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "medialib_request_id", default=None
)
_fields: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "medialib_log_fields", default=None
)
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Attributes every LogRecord has: the rest of a record's dict is what `extra=` added.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_NOT_FIELDS = {"context", "color_message"}  # the text line's suffix; uvicorn's ANSI copy
_CHATTY = ("alembic", "httpx", "pyvips")  # libvips chatters at INFO


def configure(fmt: LogFormat = "text", level: int = logging.INFO) -> None:
    """Set up the root logger once for a process (the CLI's commands call it). Records go
    to standard output, where a log shipper or `docker logs` looks (docs/deploy.md)."""
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # No record shows the caller's file and line, thread or process (the request id says
    # more): not gathering them is a third of a log call, and every request logs one line
    # (the logging documentation's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)


def request_id() -> str | None:
    return _request_id.get()


# Fresh ids: a random prefix per process and a counter (a uuid4 per request cost 3 % of a
# hot GET: a system call for randomness each time).
_PROCESS_PREFIX = secrets.token_hex(6)
_REQUEST_COUNTER = itertools.count(1)


def new_request_id(offered: str | None = None) -> str:
    """The client's id when it is a sane token, else a fresh one."""
    if offered and _SANE_ID.fullmatch(offered):
        return offered
    return f"req_{_PROCESS_PREFIX}{next(_REQUEST_COUNTER):08x}"


@contextlib.contextmanager
def context(request: str | None = None, **fields: str) -> Iterator[None]:
    """Records logged inside carry this request id (when given) and these fields."""
    id_token = _request_id.set(request) if request is not None else None
    fields_token = _fields.set({**(_fields.get() or {}), **fields}) if fields else None
    try:
        yield
    finally:
        if fields_token is not None:
            _fields.reset(fields_token)
        if id_token is not None:
            _request_id.reset(id_token)


def _install_record_factory() -> None:
    """Every record, whichever handler takes it, carries the request id and the context
    fields of where it was made (`record.context` shows them in plain lines)."""
    made = logging.getLogRecordFactory()
    if getattr(made, "medialib", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = made(*args, **kwargs)
        request, fields = _request_id.get(), _fields.get()
        shown = []
        if request is not None:
            record.request_id = request
            shown.append(f"request_id={request}")
        for name, value in (fields or {}).items():
            if value is not None:
                setattr(record, name, value)
                shown.append(f"{name}={value}")
        record.context = f" [{' '.join(shown)}]" if shown else ""
        return record

    factory.medialib = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_record_factory()


# Characters that would end a text line, or rewrite it on a terminal, in a message built
# from outside input (a URL path with %0A, a filename): shown escaped instead.
_LINE_BREAKERS = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with every control character escaped, so one record is one line."""
    return _LINE_BREAKERS.sub(lambda found: repr(found.group(0))[1:-1], text)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context"):  # made by `makeLogRecord`, past the factory
            record.context = ""
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        # A request can forge no line of its own: its text stays on the record's line (a
        # traceback, appended after this, keeps its lines).
        record.message = one_line(record.message)
        record.context = one_line(getattr(record, "context", ""))
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in _NOT_FIELDS:
                entry[name] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
