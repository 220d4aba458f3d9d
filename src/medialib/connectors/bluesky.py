"""Bluesky: the AT Protocol's XRPC over HTTP, through `fetch/`.

Log in with a handle and an app password (`com.atproto.server.createSession`; the tokens
are kept, refreshed with `refreshSession`), upload each file the plan chose
(`uploadBlob`), and create an `app.bsky.feed.post` record with an images, gallery or
video embed (alt text, `aspectRatio`), facets for links, mentions and hashtags, `langs`.

Exactly once: the record key is the target's idempotency key (a TID made when the target
first started sending). Before creating, the record is looked up (`getRecord`): a record
an earlier attempt made (a crash after the network said yes) is found, not posted twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from medialib import fetch
from medialib.connectors.base import OutgoingFile, OutgoingPost, Published, Refused, TryLater
from medialib.connectors.facets import facets
from medialib.errors import MedialibError, PayloadTooLarge, UrlNotAllowed
from medialib.fetch import HTTP_FETCHER, Fetcher, FetchPolicy

POST = "app.bsky.feed.post"
_ANSWER_MAX_BYTES = 1_000_000  # XRPC answers are small JSON
_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_WORDS_MAX = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BlueskySession:
    access_jwt: str
    refresh_jwt: str
    did: str
    handle: str

    def to_json(self) -> bytes:
        tokens = {"access": self.access_jwt, "refresh": self.refresh_jwt}
        return json.dumps({**tokens, "did": self.did, "handle": self.handle}).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> BlueskySession:
        data = json.loads(raw)
        return cls(data["access"], data["refresh"], data["did"], data["handle"])


def tid(at: dt.datetime, clock_id: int) -> str:
    """A record key in the TID form the post collection requires: 53 bits of microseconds
    since the epoch and 10 bits of clock id, base32-sortable, 13 characters."""
    value = (int(at.timestamp() * 1_000_000) << 10) | (clock_id & 0x3FF)
    out = []
    for _ in range(13):
        out.append(_B32[value & 31])
        value >>= 5
    return "".join(reversed(out))


class Xrpc:
    """XRPC calls to one service (a PDS), every one under the fetch policy and deadline."""

    def __init__(
        self,
        service_url: str,
        policy: FetchPolicy,
        *,
        by: float | None = None,
        fetcher: Fetcher = HTTP_FETCHER,
    ) -> None:
        self.base = service_url.rstrip("/") + "/xrpc/"
        self.policy = policy
        self.by = by
        self.fetcher = fetcher

    def call(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        content: Iterable[bytes] | None = None,
        content_type: str | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data: bytes | Iterable[bytes] | None = content
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif content is not None:
            headers["Content-Type"] = content_type or "application/octet-stream"
            if size is not None:
                headers["Content-Length"] = str(size)
        query = (
            ""
            if not params
            else "?"
            + "&".join(f"{fetch.query_value(k)}={fetch.query_value(v)}" for k, v in params.items())
        )
        try:
            answer = self.fetcher.call(
                method,
                self.base + nsid + query,
                self.policy,
                max_bytes=_ANSWER_MAX_BYTES,
                content=data,
                headers=headers,
                by=self.by,
            )
        except (UrlNotAllowed, PayloadTooLarge) as exc:
            raise Refused(exc.code, exc.message) from exc
        except MedialibError as exc:  # no connection, a time-out, a broken answer
            raise TryLater("network_unreachable", exc.message) from exc
        parsed = _json(answer.body)
        if answer.ok:
            return parsed
        words = _words(parsed, answer.body, answer.status)
        error = str(parsed.get("error") or answer.status)
        if answer.status == 429 or answer.status >= 500:
            raise TryLater(
                "network_busy" if answer.status == 429 else "network_error",
                f"Bluesky answered {answer.status}; trying again later.",
                network_answer=words,
                retry_after=_retry_after(answer.headers),
            )
        raise _Refusal(answer.status, error, words)


class _Refusal(Refused):
    def __init__(self, status: int, error: str, words: str) -> None:
        super().__init__("network_refused", f"Bluesky refused: {words}", network_answer=words)
        self.status = status
        self.error = error


class BlueskyConnector:
    def __init__(
        self,
        xrpc: Xrpc,
        *,
        handle: str,
        password: str,
        session: BlueskySession | None = None,
        on_session: Callable[[BlueskySession], None] = lambda _: None,
    ) -> None:
        self.xrpc = xrpc
        self.handle = handle
        self.password = password
        self.session = session
        self.on_session = on_session

    def log_in(self) -> BlueskySession:
        """A new session from the handle and app password (adding an account checks this)."""
        answer = self.xrpc.call(
            "POST",
            "com.atproto.server.createSession",
            body={"identifier": self.handle, "password": self.password},
        )
        return self._keep(answer)

    def publish(self, post: OutgoingPost) -> Published:
        session = self.session or self.log_in()
        found = self._authorised(lambda s: self._existing(s, post.idempotency_key), session)
        if found is not None:
            return found
        blobs = [self._authorised(functools.partial(self._upload, file=f)) for f in post.files]
        record = self._record(post, blobs)
        answer = self._authorised(
            functools.partial(self._create, rkey=post.idempotency_key, record=record)
        )
        return self._published(str(answer["uri"]), post.idempotency_key)

    # --- steps

    def _existing(self, session: BlueskySession, rkey: str) -> Published | None:
        try:
            answer = self.xrpc.call(
                "GET",
                "com.atproto.repo.getRecord",
                token=session.access_jwt,
                params={"repo": session.did, "collection": POST, "rkey": rkey},
            )
        except _Refusal as refusal:
            if refusal.status == 400 and refusal.error == "RecordNotFound":
                return None
            raise
        return self._published(str(answer["uri"]), rkey)

    def _create(
        self, session: BlueskySession, *, rkey: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        return self.xrpc.call(
            "POST",
            "com.atproto.repo.createRecord",
            token=session.access_jwt,
            body={"repo": session.did, "collection": POST, "rkey": rkey, "record": record},
        )

    def _upload(self, session: BlueskySession, *, file: OutgoingFile) -> dict[str, Any]:
        answer = self.xrpc.call(
            "POST",
            "com.atproto.repo.uploadBlob",
            token=session.access_jwt,
            content=file.read(),
            content_type=file.content_type,
            size=file.size,
        )
        blob = answer.get("blob")
        if not isinstance(blob, dict):
            raise TryLater("network_error", "Bluesky answered an upload without its blob.")
        return blob

    def _record(self, post: OutgoingPost, blobs: list[dict[str, Any]]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": POST,
            "text": post.text,
            "createdAt": _datetime(post.created_at),
        }
        found = facets(post.text, self._resolve)
        if found:
            record["facets"] = found
        if post.langs:
            record["langs"] = post.langs[:3]
        embed = _embed(post, blobs)
        if embed is not None:
            record["embed"] = embed
        return record

    def _resolve(self, handle: str) -> str | None:
        try:
            answer = self.xrpc.call(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
            )
        except (Refused, TryLater):
            return None  # an unknown handle stays plain text
        did = answer.get("did")
        return did if isinstance(did, str) else None

    # --- the session

    def _authorised(
        self, step: Callable[[BlueskySession], T], session: BlueskySession | None = None
    ) -> T:
        """Run a step with the session; an expired access token is refreshed (or, when the
        refresh token is spent too, a new session made) and the step run once more."""
        current = session or self.session or self.log_in()
        try:
            return step(current)
        except _Refusal as refusal:
            if refusal.status not in (400, 401) or refusal.error not in (
                "ExpiredToken",
                "InvalidToken",
                "AuthenticationRequired",
            ):
                raise
        return step(self._renewed(current))

    def _renewed(self, session: BlueskySession) -> BlueskySession:
        try:
            answer = self.xrpc.call(
                "POST", "com.atproto.server.refreshSession", token=session.refresh_jwt
            )
        except _Refusal:
            return self.log_in()
        return self._keep(answer)

    def _keep(self, answer: dict[str, Any]) -> BlueskySession:
        try:
            session = BlueskySession(
                access_jwt=str(answer["accessJwt"]),
                refresh_jwt=str(answer["refreshJwt"]),
                did=str(answer["did"]),
                handle=str(answer.get("handle") or self.handle),
            )
        except KeyError as exc:
            raise TryLater("network_error", "Bluesky answered a session without tokens.") from exc
        self.session = session
        self.on_session(session)
        return session

    def _published(self, uri: str, rkey: str) -> Published:
        handle = self.session.handle if self.session else self.handle
        return Published(remote_id=uri, remote_url=f"https://bsky.app/profile/{handle}/post/{rkey}")


def _embed(post: OutgoingPost, blobs: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not blobs:
        return None
    pairs = list(zip(post.files, blobs, strict=True))
    if post.files[0].kind == "video":
        file, blob = pairs[0]
        video: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": blob}
        if file.alt_text:
            video["alt"] = file.alt_text
        if file.width and file.height:
            video["aspectRatio"] = {"width": file.width, "height": file.height}
        return video
    images = [_image(file, blob) for file, blob in pairs]
    if post.form == "gallery":
        items = [{"$type": "app.bsky.embed.gallery#image", **image} for image in images]
        return {"$type": "app.bsky.embed.gallery", "items": items}
    return {"$type": "app.bsky.embed.images", "images": images}


def _datetime(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds and a Z, as the app writes `createdAt`."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _image(file: OutgoingFile, blob: dict[str, Any]) -> dict[str, Any]:
    image: dict[str, Any] = {"image": blob, "alt": file.alt_text or ""}
    if file.width and file.height:
        image["aspectRatio"] = {"width": file.width, "height": file.height}
    return image


def _json(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _words(parsed: dict[str, Any], raw: bytes, status: int) -> str:
    """The network's own words: `error: message` as XRPC says them, else its body."""
    error, message = parsed.get("error"), parsed.get("message")
    if error or message:
        said = f"{error}: {message}" if error and message else str(error or message)
    else:
        said = raw[:_WORDS_MAX].decode("utf-8", errors="replace").strip() or f"HTTP {status}"
    return said[:_WORDS_MAX]


def _retry_after(headers: dict[str, str]) -> float | None:
    """Seconds to wait: `Retry-After`, or the rate limit's reset time (epoch seconds)."""
    value = headers.get("retry-after")
    if value and value.strip().isdigit():
        return float(value)
    reset = headers.get("ratelimit-reset")
    if reset and reset.strip().isdigit():
        now = dt.datetime.now(dt.UTC).timestamp()
        return max(1.0, float(reset) - now)
    return None
