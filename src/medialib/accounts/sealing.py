"""Credentials sealed at rest: AES-256-GCM (from `cryptography`, an authenticated cipher)
under a key derived from `MEDIALIB_SECRET_KEY` with HKDF-SHA256. Each sealed value is
bound to the account it belongs to (associated data), so a value copied onto another row
does not open. In development, when no key is set, one is made in the data dir (0600, the
first process to start wins); in production a missing key refuses to store credentials.

Format: b"v1" + 12-byte nonce + ciphertext with its tag.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from medialib.config import Settings
from medialib.errors import CredentialsUnavailable

_VERSION = b"v1"
_KEY_FILE = "secret-key"


class Sealer:
    def __init__(self, secret: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"medialib-credentials-v1"
        ).derive(secret.encode())
        self._cipher = AESGCM(key)

    def seal(self, plaintext: bytes, *, bound_to: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return _VERSION + nonce + self._cipher.encrypt(nonce, plaintext, bound_to.encode())

    def open(self, sealed: bytes, *, bound_to: str) -> bytes:
        if not sealed.startswith(_VERSION) or len(sealed) < len(_VERSION) + 12 + 16:
            raise CredentialsUnavailable("The stored credentials are not readable.")
        nonce, body = sealed[2:14], sealed[14:]
        try:
            return self._cipher.decrypt(nonce, body, bound_to.encode())
        except InvalidTag as exc:
            raise CredentialsUnavailable(
                "The stored credentials do not open with this MEDIALIB_SECRET_KEY."
            ) from exc


def sealer_for(settings: Settings) -> Sealer:
    """The process's sealer; refuses (409 `credentials_unavailable`) outside development
    when no key is set."""
    if settings.secret_key:
        return Sealer(settings.secret_key)
    if settings.environment != "development":
        raise CredentialsUnavailable(
            "Set MEDIALIB_SECRET_KEY to store network credentials (they are sealed with it)."
        )
    return Sealer(_development_key(settings.resolved_data_dir))


def _development_key(data_dir: Path) -> str:
    path = data_dir / _KEY_FILE
    if not path.exists():
        fd, temp_name = tempfile.mkstemp(dir=data_dir, prefix=".secret-")
        try:
            with os.fdopen(fd, "w") as temp:  # mkstemp files are 0600 already
                temp.write(secrets.token_urlsafe(48))
                temp.flush()
                os.fsync(temp.fileno())
            with contextlib.suppress(FileExistsError):  # two starting at once: first wins
                os.link(temp_name, path)
        finally:
            os.unlink(temp_name)
    return path.read_text().strip()
