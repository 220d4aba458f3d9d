"""Debian's Firefox ESR driven over WebDriver BiDi, the W3C protocol it speaks natively.

Playwright's Firefox needs its own patched build (a download, impossible here), and its
experimental BiDi channel asks ESR for commands it does not have yet; geckodriver is not
packaged. So the tests talk BiDi themselves: start `firefox-esr --remote-debugging-port`,
open a session over its WebSocket, and use a handful of commands (navigate, evaluate,
screenshot). Values come back as JSON: scripts return `JSON.stringify(...)`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox") or "/usr/bin/firefox-esr"
_LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")
# A quiet profile: no first-run pages, update checks or telemetry on a closed network.
_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "extensions.update.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "dom.disable_beforeunload": True,
}


class BiDiError(RuntimeError):
    pass


class Firefox:
    """One headless Firefox and its BiDi session."""

    def __init__(
        self, process: subprocess.Popen[str], connection: contextlib.ExitStack, profile: Path
    ) -> None:
        self._process = process
        self._connection = connection
        self._socket: ClientConnection | None = None
        self._profile = profile
        self._next_id = 0
        self.version = ""

    @classmethod
    def launch(cls, *, timeout: float = 60) -> Firefox:
        profile = Path(tempfile.mkdtemp(prefix="medialib-firefox-"))
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in _PREFS.items())
        )
        process = subprocess.Popen(
            [
                FIREFOX,
                "--headless",
                "--no-remote",
                "--remote-debugging-port=0",
                "--profile",
                str(profile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = _read_listening_url(process, timeout)
        stack = contextlib.ExitStack()
        browser = cls(process, stack, profile)
        browser._socket = stack.enter_context(
            connect(f"{url}/session", max_size=64 * 1024 * 1024, open_timeout=timeout)
        )
        session = browser.command(
            "session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}}
        )
        browser.version = str(session["capabilities"].get("browserVersion", ""))
        return browser

    def command(self, method: str, params: dict[str, Any], *, timeout: float = 60) -> Any:
        assert self._socket is not None
        self._next_id += 1
        command_id = self._next_id
        self._socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") != command_id:
                continue  # an event, or a late answer: nothing here subscribes to events
            if message.get("type") == "error":
                raise BiDiError(f"{method}: {message.get('error')}: {message.get('message')}")
            return message["result"]

    def new_tab(self) -> Tab:
        created = self.command("browsingContext.create", {"type": "tab"})
        return Tab(self, created["context"])

    def close(self) -> None:
        with contextlib.suppress(BiDiError, OSError, TimeoutError):
            self.command("browser.close", {}, timeout=10)
        self._connection.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        shutil.rmtree(self._profile, ignore_errors=True)


class Tab:
    def __init__(self, browser: Firefox, context: str) -> None:
        self.browser = browser
        self.context = context

    def navigate(self, url: str) -> None:
        self.browser.command(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def reload(self) -> None:
        self.browser.command(
            "browsingContext.reload", {"context": self.context, "wait": "complete"}
        )

    def js(self, body: str, *args: Any) -> Any:
        """Run `body` as an async function of `args` (JSON values) and return its result
        (JSON-serialisable) — `args` arrive as `args[0]`, `args[1]`, …"""
        declaration = (
            "async (argsJson) => { const args = JSON.parse(argsJson);"
            f" const result = await (async () => {{ {body} }})();"
            " return JSON.stringify(result ?? null); }"
        )
        answer = self.browser.command(
            "script.callFunction",
            {
                "functionDeclaration": declaration,
                "arguments": [{"type": "string", "value": json.dumps(list(args))}],
                "awaitPromise": True,
                "target": {"context": self.context},
                "resultOwnership": "none",
            },
        )
        if answer.get("type") == "exception":
            details = answer.get("exceptionDetails", {})
            raise BiDiError(f"script failed: {details.get('text')}")
        return json.loads(answer["result"]["value"])

    def wait_for(self, condition: str, *args: Any, timeout: float = 30) -> Any:
        """Poll until the JS expression `condition` is truthy; returns its value. (It comes
        back as JSON, so an element would be `{}`: test for one with `!!`.)"""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(f"return ({condition});", *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout}s for: {condition}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        answer = self.browser.command(
            "browsingContext.captureScreenshot", {"context": self.context}
        )
        path.write_bytes(base64.b64decode(answer["data"]))
        return path

    def set_viewport(self, width: int, height: int) -> None:
        self.browser.command(
            "browsingContext.setViewport",
            {"context": self.context, "viewport": {"width": width, "height": height}},
        )


def _read_listening_url(process: subprocess.Popen[str], timeout: float) -> str:
    """Firefox prints where it listens on stderr; the rest of stderr is drained quietly."""
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert process.stderr is not None
        with process.stderr as stream:  # closed here once Firefox has gone
            for line in stream:
                match = _LISTENING.search(line)
                if match and not found:
                    found.append(match.group(1))
                    ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    if not ready.wait(timeout) or not found:
        process.kill()
        raise BiDiError("Firefox did not start its WebDriver BiDi server")
    return found[0]
