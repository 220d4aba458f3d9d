"""Generation providers behind three narrow interfaces, each spoken over HTTP through
`fetch/` (one deadline per call however slowly the provider answers, every decoded byte
counted, ids from the provider escaped as path segments):

- images: the OpenAI-compatible images API (`POST {base}/images/generations`, answers
  with `b64_json` or `url`), which OpenAI and many hosted and self-hosted servers speak;
- video: an asynchronous prediction API as hosted video models expose it (`POST
  {base}/predictions` → an id, then `GET {base}/predictions/{id}` until `succeeded`,
  `failed` or `canceled`; the output is a URL);
- prompt enhancement: the OpenAI-compatible chat-completions API.

Provider base URLs are the operator's configuration, so their addresses are not vetted
like user input (a provider may run on the company's own network); what a provider
answers is outside input: bodies are read up to a cap, every call has a deadline, and a
result URL is fetched by the caller under the URL import's rules. Every failure becomes
`GenerationFailed` with the provider's own reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from medialib import fetch
from medialib.config import Settings
from medialib.errors import GenerationFailed, MedialibError, PayloadTooLarge
from medialib.fetch import HTTP_FETCHER, Fetcher, FetchPolicy

# A generated image arrives base64-encoded inside JSON: room for a large PNG.
ANSWER_MAX_BYTES = 64 * 1024 * 1024
PROMPT_MAX_CHARS = 4000
_ERROR_MAX_CHARS = 500


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """The provider's result: its bytes, or a URL to fetch them from."""

    data: bytes | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    status: str  # starting, processing, succeeded, failed, canceled
    output_url: str | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "canceled")


class ImageProvider(Protocol):
    def generate(self, *, prompt: str, model: str, size: str) -> GeneratedFile: ...
    def edit(
        self, *, image_png: bytes, mask_png: bytes, prompt: str, model: str, size: str
    ) -> GeneratedFile: ...


class VideoProvider(Protocol):
    def start(self, *, prompt: str, model: str, aspect_ratio: str | None) -> str: ...
    def poll(self, prediction_id: str) -> Prediction: ...


class PromptEnhancer(Protocol):
    def enhance(self, prompt: str, *, style: str | None, by: float | None = None) -> str: ...


class _Http:
    """JSON over HTTP with a bearer key, one deadline per call and a cap on the answer."""

    def __init__(
        self, base_url: str, key: str | None, *, timeout_seconds: float, fetcher: Fetcher
    ) -> None:
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.policy = FetchPolicy(
            allow_http=True,
            public_only=False,
            connect_timeout=min(10.0, timeout_seconds),
            read_timeout=timeout_seconds,
            deadline_seconds=timeout_seconds,
        )

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        by: float | None = None,
        form: tuple[bytes, str] | None = None,
    ) -> Any:
        """`form`: a multipart body already made, with its Content-Type."""
        headers = dict(self.headers)
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            content, headers["Content-Type"] = form
        try:
            answer = self.fetcher.call(
                method,
                f"{self.base_url}{path}",
                self.policy,
                max_bytes=ANSWER_MAX_BYTES,
                content=content,
                headers=headers,
                by=by,
            )
        except PayloadTooLarge as exc:
            raise GenerationFailed("The provider's answer is too large.", reason="answer") from exc
        except MedialibError as exc:  # time-out, no connection, a broken encoding
            reason = str(exc.details.get("reason") or "network")
            if reason == "timeout":
                raise GenerationFailed(
                    "The provider did not answer in time.", reason="timeout"
                ) from exc
            raise GenerationFailed("The provider could not be reached.", reason=reason) from exc
        if answer.status >= 400:
            raise GenerationFailed(
                f"The provider refused: {_provider_reason(answer.body) or answer.status}",
                reason="provider",
                provider_status=answer.status,
            )
        try:
            return json.loads(answer.body)
        except ValueError as exc:
            raise GenerationFailed("The provider's answer is not JSON.", reason="answer") from exc


def _provider_reason(raw: bytes) -> str:
    """The message a provider's error body carries (OpenAI `error.message`, others
    `detail` or `error`), cut short; never the whole body."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw[:_ERROR_MAX_CHARS].decode("utf-8", errors="replace").strip()
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            error = error.get("message")
        reason = error or body.get("detail") or body.get("message") or ""
        return str(reason)[:_ERROR_MAX_CHARS]
    return ""


class OpenAIImages:
    def __init__(
        self,
        base_url: str,
        key: str | None,
        *,
        timeout_seconds: float,
        fetcher: Fetcher = HTTP_FETCHER,
    ) -> None:
        self.http = _Http(base_url, key, timeout_seconds=timeout_seconds, fetcher=fetcher)

    def generate(self, *, prompt: str, model: str, size: str) -> GeneratedFile:
        answer = self.http.call(
            "POST",
            "/images/generations",
            {"model": model, "prompt": prompt, "n": 1, "size": size},
        )
        return _image_of(answer)

    def edit(
        self, *, image_png: bytes, mask_png: bytes, prompt: str, model: str, size: str
    ) -> GeneratedFile:
        """The images API's edit (`POST {base}/images/edits`, multipart: the picture, its
        mask, transparent where the model may paint, the prompt and the size)."""
        form = _multipart(
            fields={"model": model, "prompt": prompt, "n": "1", "size": size},
            files={"image": ("image.png", image_png), "mask": ("mask.png", mask_png)},
        )
        return _image_of(self.http.call("POST", "/images/edits", form=form))


def _image_of(answer: Any) -> GeneratedFile:
    try:
        item = answer["data"][0]
    except (KeyError, IndexError, TypeError) as exc:
        raise GenerationFailed("The provider answered without an image.") from exc
    if isinstance(item, dict) and item.get("b64_json"):
        try:
            return GeneratedFile(data=base64.b64decode(item["b64_json"], validate=True))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise GenerationFailed("The provider's image is not valid base64.") from exc
    if isinstance(item, dict) and isinstance(item.get("url"), str):
        return GeneratedFile(url=item["url"])
    raise GenerationFailed("The provider answered without an image.")


def _multipart(*, fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) and its Content-Type."""
    boundary = f"medialib-{secrets.token_hex(16)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode() + b"\r\n")
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class PredictionVideos:
    def __init__(
        self,
        base_url: str,
        key: str | None,
        *,
        timeout_seconds: float,
        fetcher: Fetcher = HTTP_FETCHER,
    ) -> None:
        self.http = _Http(base_url, key, timeout_seconds=timeout_seconds, fetcher=fetcher)

    def start(self, *, prompt: str, model: str, aspect_ratio: str | None) -> str:
        prompt_input: dict[str, Any] = {"prompt": prompt}
        if aspect_ratio:
            prompt_input["aspect_ratio"] = aspect_ratio
        answer = self.http.call("POST", "/predictions", {"model": model, "input": prompt_input})
        prediction_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(prediction_id, str) or not prediction_id:
            raise GenerationFailed("The provider did not start a prediction.")
        return prediction_id

    def poll(self, prediction_id: str) -> Prediction:
        answer = self.http.call("GET", f"/predictions/{_segment(prediction_id)}")
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
            raise GenerationFailed("The provider's prediction has no status.")
        output = answer.get("output")
        if isinstance(output, list):
            output = output[0] if output else None
        error = answer.get("error")
        return Prediction(
            status=answer["status"],
            output_url=output if isinstance(output, str) else None,
            error=str(error)[:_ERROR_MAX_CHARS] if error else None,
        )


class ChatEnhancer:
    INSTRUCTIONS = (
        "Rewrite the user's prompt for an image or video generation model: keep its "
        "subject and intent, add concrete detail about composition, light and mood, "
        "in one paragraph under 80 words. Answer with the prompt only."
    )

    def __init__(
        self,
        base_url: str,
        key: str | None,
        *,
        model: str,
        timeout_seconds: float,
        fetcher: Fetcher = HTTP_FETCHER,
    ) -> None:
        self.http = _Http(base_url, key, timeout_seconds=timeout_seconds, fetcher=fetcher)
        self.model = model

    def enhance(self, prompt: str, *, style: str | None, by: float | None = None) -> str:
        wanted = f"{prompt}\n\nStyle: {style}" if style else prompt
        answer = self.http.call(
            "POST",
            "/chat/completions",
            {
                "model": self.model,
                "messages": [
                    {"role": "system", "content": self.INSTRUCTIONS},
                    {"role": "user", "content": wanted},
                ],
            },
            by=by,
        )
        try:
            text = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise GenerationFailed("The provider answered without a prompt.") from exc
        if not isinstance(text, str) or not text.strip():
            raise GenerationFailed("The provider answered without a prompt.")
        return text.strip()[:PROMPT_MAX_CHARS]


def _segment(provider_id: str) -> str:
    try:
        return fetch.path_segment(provider_id)
    except MedialibError as exc:
        raise GenerationFailed("The provider answered with an unusable id.") from exc


@dataclass(frozen=True, slots=True)
class Providers:
    """The providers the settings configure, each calling out through `fetcher` (the
    runtime's: a test hands a fake one to drive a job against scripted answers)."""

    settings: Settings
    fetcher: Fetcher = HTTP_FETCHER

    def images(self) -> ImageProvider:
        if not self.settings.generate_images_url:
            raise GenerationFailed("Image generation is no longer configured.")
        return OpenAIImages(
            self.settings.generate_images_url,
            self.settings.generate_images_key,
            timeout_seconds=self.settings.generate_request_seconds,
            fetcher=self.fetcher,
        )

    def videos(self) -> VideoProvider:
        if not self.settings.generate_video_url:
            raise GenerationFailed("Video generation is no longer configured.")
        return PredictionVideos(
            self.settings.generate_video_url,
            self.settings.generate_video_key,
            timeout_seconds=self.settings.generate_request_seconds,
            fetcher=self.fetcher,
        )
