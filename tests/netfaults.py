"""A loopback TCP proxy that breaks connections on purpose: a real network fault between
a real client and a real server, for tests of resuming."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def cutting_proxy(target_port: int, *, cut_after: int, cuts: int = 1) -> Iterator[int]:
    """Forward 127.0.0.1:<yielded port> to `target_port`; the first `cuts` connections that
    send more than `cut_after` bytes upstream are dropped at that point."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    remaining = [cuts]
    lock = threading.Lock()
    stop = threading.Event()
    opened: list[socket.socket] = []
    pipes: list[threading.Thread] = []

    def pipe(source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if limit is not None and sent + len(data) > limit:
                    with lock:
                        cut = remaining[0] > 0
                        remaining[0] -= cut
                    if cut:
                        sink.sendall(data[: limit - sent])
                        break
                    limit = None
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", target_port))
            opened.extend((client, upstream))
            for args in ((client, upstream, cut_after), (upstream, client, None)):
                pipes.append(threading.Thread(target=pipe, args=args, daemon=True))
                pipes[-1].start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for sock in opened:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for piping in pipes:
            piping.join(5)
        for sock in opened:
            sock.close()
