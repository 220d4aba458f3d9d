"""A loopback server that speaks the generation providers' APIs as documented, because
no real provider can be reached here: OpenAI's images API (`POST /v1/images/generations`,
`b64_json` or `url` results, errors as `{"error": {"message": ...}}`), an asynchronous
prediction API (`POST /v1/predictions`, `GET /v1/predictions/{id}` going starting →
processing → succeeded or failed, the output a URL), and OpenAI's chat completions.

It checks the bearer key (401 otherwise) and renders real media: a PNG of the size asked
for (libvips), an MP4 (FFmpeg through PyAV). What it does is steered by words in the
prompt, so one server serves every case:
  refuse   → 400 with the provider's reason       slow   → answers after 5 s
  url      → the image as a URL on this server     private → a URL on a private address
  notimage → "image" bytes that are HTML           fail   → the prediction fails
  never    → the prediction never finishes
  trickle  → headers at once, then the body a byte every 0.3 s (each read well inside a
             per-read time-out: only an overall deadline ends it)
  bomb     → a `gzip, gzip` body of a few KB that inflates to gigabytes
  traverse → the prediction's id is `../../admin/secret?x=` (it must not become a path)
"""

from __future__ import annotations

import base64
import email
import email.policy
import functools
import gzip
import itertools
import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyvips

from tests import mediafiles

KEY = "sk-test-medialib"
HTML = b"<!doctype html><html><body>not an image</body></html>"


@dataclass
class FakeProvider:
    url: str  # the API's base URL, as MEDIALIB_GENERATE_*_URL takes it
    requests: list[dict[str, Any]] = field(default_factory=list)
    predictions: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"] == path]


def settings_for(provider: FakeProvider, **more: Any) -> dict[str, Any]:
    """A medialib server's settings that point every generation kind at `provider` (and
    allow loopback, where its result URLs are)."""
    return {
        "allow_loopback_targets": True,
        "import_allow_http": True,
        "generate_images_url": provider.url,
        "generate_images_key": KEY,
        "generate_images_model": "fake-image-1",
        "generate_video_url": provider.url,
        "generate_video_key": KEY,
        "generate_video_models": ["fake-video-1"],
        "generate_poll_seconds": 0.2,
        **more,
    }


@functools.cache
@functools.cache
def _bomb_body(size: int = 512 * 1024**2) -> bytes:
    """`gzip, gzip` of 512 MB of spaces: under a megabyte on the wire. Made once, before
    the provider serves (compressing it takes seconds on a slow machine: made per request,
    the provider's own slowness ran out the client's 2 s deadline before the bomb went)."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    once = b"".join([*(inner.compress(chunk) for _ in range(size >> 20)), inner.flush()])
    return gzip.compress(once)


def png(width: int, height: int) -> bytes:
    gradient = pyvips.Image.xyz(width, height)[0].linear(255 / max(1, width), 0).cast("uchar")
    image = gradient.bandjoin([gradient.flip("horizontal"), gradient.rot180()])
    return bytes(image.copy(interpretation="srgb").pngsave_buffer(compression=1))


@contextmanager
def fake_provider(folder: Path) -> Iterator[FakeProvider]:
    clip = mediafiles.video(folder / "generated.mp4", seconds=1.0).read_bytes()
    _bomb_body()
    counter = itertools.count(1)
    state: dict[str, FakeProvider] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {KEY}":
                return True
            self._answer(401, {"error": {"message": "Incorrect API key provided."}})
            return False

        def _trickle(self, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass  # the client gave up, as it should

        def _bomb(self) -> None:
            data = _bomb_body()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip, gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            provider = state["p"]
            provider.requests.append({"path": self.path, "body": None, "auth": None})
            if self.path.startswith("/files/"):
                name = self.path.removeprefix("/files/")
                if name in provider.files:
                    kind = "video/mp4" if name.endswith(".mp4") else "image/png"
                    return self._answer(200, provider.files[name], kind)
                return self._answer(404, {"error": {"message": "no such file"}})
            if not self._authorised():
                return
            prediction_id = self.path.removeprefix("/v1/predictions/")
            prediction = provider.predictions.get(prediction_id)
            if prediction is None:
                return self._answer(404, {"detail": "Prediction not found."})
            prediction["polls"] += 1
            self._answer(200, _prediction_state(prediction, provider))

        def do_POST(self) -> None:
            provider = state["p"]
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            kind = self.headers.get("Content-Type", "")
            parts: dict[str, bytes] = {}
            if kind.startswith("multipart/form-data"):
                parts = _form_parts(kind, raw)
                body = {k: v.decode() for k, v in parts.items() if k not in ("image", "mask")}
            else:
                body = json.loads(raw or b"{}")
            provider.requests.append(
                {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
            )
            if not self._authorised():
                return
            prompt = str(body.get("prompt") or body.get("input", {}).get("prompt") or "")
            if not prompt and body.get("messages"):
                prompt = str(body["messages"][-1]["content"])
            if "slow" in prompt:
                time.sleep(5)
            if "trickle" in prompt:
                return self._trickle({"choices": [{"message": {"content": "x" * 40}}]})
            if "bomb" in prompt:
                return self._bomb()
            if self.path == "/v1/images/generations":
                return self._images(provider, body, prompt)
            if self.path == "/v1/images/edits":
                return self._edit(provider, body, parts, prompt)
            if self.path == "/v1/predictions":
                prediction_id = (
                    "../../admin/secret?x=" if "traverse" in prompt else f"p{next(counter)}"
                )
                provider.predictions[prediction_id] = {
                    "id": prediction_id,
                    "prompt": prompt,
                    "polls": 0,
                }
                return self._answer(201, {"id": prediction_id, "status": "starting"})
            if self.path == "/v1/chat/completions":
                said = body["messages"][-1]["content"]
                return self._answer(
                    200,
                    {
                        "choices": [
                            {"message": {"role": "assistant", "content": f"Enhanced: {said}"}}
                        ]
                    },
                )
            self._answer(404, {"error": {"message": "Unknown path."}})

        def _edit(
            self,
            provider: FakeProvider,
            body: dict[str, Any],
            parts: dict[str, bytes],
            prompt: str,
        ) -> None:
            """The images edit API as documented: multipart with the picture and a mask of
            its size with an alpha channel; the model paints where the mask is
            transparent (here: a flat green), the rest is the picture, at the size asked."""
            if "refuse" in prompt:
                reason = "Your request was rejected as a result of our safety system."
                return self._answer(400, {"error": {"message": reason}})
            try:
                image = pyvips.Image.new_from_buffer(parts["image"], "")
                mask = pyvips.Image.new_from_buffer(parts["mask"], "")
            except (KeyError, pyvips.Error):
                return self._answer(400, {"error": {"message": "image and mask are required"}})
            body["image_size"] = [image.width, image.height]
            body["mask_size"] = [mask.width, mask.height]
            if (mask.width, mask.height) != (image.width, image.height) or not mask.hasalpha():
                message = "Invalid mask: it must be the image's size and have an alpha channel."
                return self._answer(400, {"error": {"message": message}})
            width, height = (int(n) for n in str(body.get("size", "1024x1024")).split("x"))
            base = image.extract_band(0, n=3).resize(
                width / image.width, vscale=height / image.height
            )
            alpha = mask.extract_band(mask.bands - 1).resize(
                width / mask.width, vscale=height / mask.height, kernel="nearest"
            )
            green = base.new_from_image([0, 200, 80])
            painted = (alpha < 128).ifthenelse(green, base).cast("uchar")
            data = bytes(painted.pngsave_buffer())
            self._answer(200, {"data": [{"b64_json": base64.b64encode(data).decode()}]})

        def _images(self, provider: FakeProvider, body: dict[str, Any], prompt: str) -> None:
            if "refuse" in prompt:
                reason = "Your request was rejected as a result of our safety system."
                return self._answer(
                    400, {"error": {"message": reason, "type": "invalid_request_error"}}
                )
            width, height = (int(n) for n in str(body.get("size", "1024x1024")).split("x"))
            data = HTML if "notimage" in prompt else png(width, height)
            if "private" in prompt:
                return self._answer(200, {"data": [{"url": "http://10.0.0.7/result.png"}]})
            if "url" in prompt:
                name = f"image{next(counter)}.png"
                provider.files[name] = data
                return self._answer(200, {"data": [{"url": f"{origin}/files/{name}"}]})
            self._answer(
                200, {"created": 1, "data": [{"b64_json": base64.b64encode(data).decode()}]}
            )

    def _prediction_state(prediction: dict[str, Any], provider: FakeProvider) -> dict[str, Any]:
        polls, prompt = prediction["polls"], prediction["prompt"]
        answer = {"id": prediction["id"], "status": "starting", "output": None, "error": None}
        if polls >= 2:
            answer["status"] = "processing"
        if polls >= 3 and "never" not in prompt:
            if "fail" in prompt:
                answer.update(status="failed", error="The model could not render this prompt.")
            else:
                name = f"{prediction['id']}.mp4"
                provider.files[name] = clip
                answer.update(status="succeeded", output=f"{origin}/files/{name}")
        return answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    state["p"] = FakeProvider(url=f"{origin}/v1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["p"]
    finally:
        server.shutdown()
        server.server_close()


def _form_parts(content_type: str, raw: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name (the standard library's parser)."""
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw, policy=email.policy.HTTP
    )
    found: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        found[str(name)] = part.get_payload(decode=True) or b""
    return found
