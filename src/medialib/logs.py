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
import queue
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from typing import Any, Literal, TextIO

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


def write_in_background() -> None:
    """From now on the root logger's lines are written by a thread of their own (`serve`
    and `worker` call this as they start; short commands keep writing in order with what
    they print): see `BackgroundLines`."""
    root = logging.getLogger()
    for number, handler in enumerate(root.handlers):
        if type(handler) is logging.StreamHandler and handler.formatter is not None:
            root.handlers[number] = BackgroundLines(handler.stream, handler.formatter)


# Lines waiting for the writer past this many are dropped, and counted in a line of their
# own: a standard output nobody reads must not grow the process without end.
_WAITING_LINES_MAX = 10_000
_LINES_PER_WRITE = 512
_CLOSE_SECONDS = 2.0


class BackgroundLines(logging.Handler):
    """Each record is formatted where it is made (its request id and fields are read
    there) and its line handed to one writer thread. The server's event loop logs every
    request's access line: a write to standard output there gave the GIL up and waited
    for it back behind the request threads (a sixth of the loop's samples under load),
    and stopped everything when nobody read the output (docs/decisions.md, "No file on
    the event loop"). Lines are written in order; at exit
    the writer has `_CLOSE_SECONDS` to finish (logging.shutdown closes every handler)."""

    def __init__(
        self,
        stream: TextIO,
        formatter: logging.Formatter,
        *,
        most_waiting: int = _WAITING_LINES_MAX,
    ) -> None:
        super().__init__()
        self.most_waiting = most_waiting
        self.setFormatter(formatter)
        self.stream = stream
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._dropped = 0
        self._drop_lock = threading.Lock()  # taken only while lines are being dropped
        self._writer = threading.Thread(target=self._write, name="medialib-log-lines", daemon=True)
        self._writer.start()

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: the queue is safe between threads, and a lock another thread
        # holds would make the event loop wait for the GIL again.
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # logging's own rule: a bad record never raises
            self.handleError(record)
            return
        if self._lines.qsize() >= self.most_waiting:
            with self._drop_lock:
                self._dropped += 1
            return
        self._lines.put(line)

    def close(self) -> None:
        if self._writer.is_alive():
            self._lines.put(None)
            self._writer.join(_CLOSE_SECONDS)
        super().close()

    def _write(self) -> None:
        while True:
            batch = [self._lines.get()]
            while len(batch) < _LINES_PER_WRITE and not self._lines.empty():
                batch.append(self._lines.get_nowait())
            lines = [line for line in batch if line is not None]
            if self._dropped:
                lines.append(self._dropped_line())
            self._write_out("".join(line + "\n" for line in lines))
            if None in batch:
                return

    def _write_out(self, text: str) -> None:
        try:
            self.stream.write(text)
        except UnicodeEncodeError:  # an output that cannot show every character: escaped
            try:
                self.stream.write(_escaped(text, getattr(self.stream, "encoding", None) or "ascii"))
            except (OSError, ValueError):
                return
        except (OSError, ValueError):  # closed or gone: nothing left to write to
            return
        try:
            self.stream.flush()
        except (OSError, ValueError):
            return

    def _dropped_line(self) -> str:
        with self._drop_lock:
            dropped, self._dropped = self._dropped, 0
        notice = logging.makeLogRecord(
            {
                "name": "medialib.logs",
                "levelno": logging.WARNING,
                "levelname": "WARNING",
                "msg": "%d log lines dropped: standard output was not read as fast as they came",
                "args": (dropped,),
            }
        )
        return self.format(notice)


def _escaped(text: str, encoding: str) -> str:
    """`text` with each character `encoding` cannot hold written as JSON's `\\uXXXX` (a
    JSON line stays JSON, and reads back as it was)."""
    kept = []
    for char in text:
        try:
            char.encode(encoding)
            kept.append(char)
        except UnicodeEncodeError:
            data = char.encode("utf-16-be", "surrogatepass")
            units = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
            kept.append("".join(f"\\u{unit:04x}" for unit in units))
    return "".join(kept)


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
