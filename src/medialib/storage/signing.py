"""App-signed URLs for the local store: HMAC-SHA256 with a key id for rotation.

The signed message is an unambiguous encoding (JSON array) of method, key, workspace,
expiry, byte cap and content type, so no two different grants share a signature.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from medialib.errors import Forbidden
from medialib.storage.base import UploadGrant

_KEY_FILE = "signing-keys.json"


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """`current` signs; every key in `keys` verifies (old keys stay valid after rotation)."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SigningKeys:
        path = data_dir / _KEY_FILE
        if not path.exists():
            _create_key_file(path)
        stored = json.loads(path.read_text())
        keys = {key_id: bytes.fromhex(secret) for key_id, secret in stored["keys"].items()}
        return cls(current=stored["current"], keys=keys)


def _create_key_file(path: Path) -> None:
    key_id = "k" + secrets.token_hex(4)
    stored = {"current": key_id, "keys": {key_id: secrets.token_hex(32)}}
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".signing-")
    try:
        with os.fdopen(fd, "w") as temp:  # mkstemp files are 0600 already
            temp.write(json.dumps(stored))
            temp.flush()
            os.fsync(temp.fileno())
        # link() refuses to replace: when two processes start at once, the first key wins.
        with contextlib.suppress(FileExistsError):
            os.link(temp_name, path)
    finally:
        os.unlink(temp_name)


def _message(method: str, grant: UploadGrant) -> bytes:
    fields = [
        "medialib-upload-v1",
        method.upper(),
        grant.key,
        grant.workspace_id,
        int(grant.expires_at.timestamp()),
        grant.max_bytes,
        grant.content_type,
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(keys: SigningKeys, method: str, grant: UploadGrant) -> dict[str, str]:
    digest = hmac.new(keys.keys[keys.current], _message(method, grant), hashlib.sha256)
    return {
        "key": grant.key,
        "ws": grant.workspace_id,
        "exp": str(int(grant.expires_at.timestamp())),
        "max": str(grant.max_bytes),
        "ct": grant.content_type,
        "kid": keys.current,
        "sig": _b64(digest.digest()),
    }


def verify(
    keys: SigningKeys, method: str, params: dict[str, str], *, now: dt.datetime
) -> UploadGrant:
    """The grant a query string carries, or `Forbidden` when it is altered or expired."""
    try:
        grant = UploadGrant(
            key=params["key"],
            workspace_id=params["ws"],
            content_type=params["ct"],
            max_bytes=int(params["max"]),
            expires_at=dt.datetime.fromtimestamp(int(params["exp"]), tz=dt.UTC),
        )
        secret = keys.keys[params["kid"]]
        given = params["sig"]
    except (KeyError, ValueError, OverflowError, OSError) as exc:
        raise Forbidden("The upload URL is not valid.", reason="bad_signature") from exc
    expected = _b64(hmac.new(secret, _message(method, grant), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("The upload URL is not valid.", reason="bad_signature")
    if grant.expires_at <= now:
        raise Forbidden("The upload URL has expired.", reason="expired")
    return grant
