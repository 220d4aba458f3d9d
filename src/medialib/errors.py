"""The error tree. Every error a client can see is a `MedialibError` with a stable code.

    MedialibError                      (code, HTTP status, message, details)
    ├── Unauthorized                   401 unauthorized
    ├── Forbidden                      403 forbidden            bad/expired signature, wrong type
    ├── NotFound                       404 not_found            also another workspace's id
    ├── ValidationFailed               422 validation_error     field: what is wrong
    │   └── MalformedBody              400 validation_error     a body that is not JSON
    ├── UploadMissing                  400 upload_missing
    ├── InvalidState                   409 invalid_state
    ├── PayloadTooLarge                413 payload_too_large    max_bytes, size
    ├── QuotaExceeded                  413 quota_exceeded       quota_bytes, used_bytes, size
    ├── UnsupportedMediaType           415 unsupported_media_type
    ├── ContentTypeMismatch            415 content_type_mismatch  declared, detected
    ├── ImageTooLarge                  422 image_too_large      a decompression-bomb guard
    ├── MediaProcessingFailed          422 processing_failed    probe/decoder refused the bytes
    ├── MediaRejectedSecurity          422 media_rejected_security  threat: what ClamAV found
    ├── ScanIncomplete                 422 scan_incomplete      the scanner stopped at a limit
    ├── UrlNotAllowed                  422 url_not_allowed      reason: scheme, address, ...
    ├── ImportFailed                   502 import_failed        reason: the other server's fault
    ├── TusVersionUnsupported          412 tus_version_unsupported  (resumable uploads)
    ├── UploadOffsetMismatch           409 upload_offset_mismatch   offset: where it is
    ├── UploadExpired                  410 upload_expired
    ├── UploadBusy                     423 upload_locked        another request is appending
    ├── ChecksumMismatch               460 checksum_mismatch    the chunk was not kept
    ├── RangeNotSatisfiable            416 range_not_satisfiable  size: the file's bytes
    ├── MediaValidationFailed          422 media_validation_failed  errors: per target, media
    ├── MediaInUse                     409 media_in_use         post_ids: the scheduled posts
    ├── IdempotencyKeyReused           422 idempotency_key_reused  the key answered another request
    ├── IdempotencyInProgress          409 idempotency_in_progress
    ├── GenerationUnavailable          409 generation_unavailable  no provider configured
    ├── GenerationFailed               502 generation_failed    the provider's reason
    ├── CredentialsUnavailable         409 credentials_unavailable  no key to seal them with
    ├── AccountCheckFailed             422 account_check_failed  network_answer: the network's words
    ├── NetworkUnreachable             502 network_unreachable  the network did not answer in time
    ├── RateLimited                    429 rate_limited         limit, window_seconds
    └── ServiceUnavailable             503 service_unavailable  a dependency is down, or busy

The HTTP layer renders them as `{"error": {"code", "message", **details}}`; an error that
is worth retrying later (423, 429, 503) also says when, in `Retry-After`.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

_PATH = re.compile(r"(?:/[^\s/:'\"]+){2,}/?")


def client_reason(text: str, limit: int = 200) -> str:
    """A library's words as a reason a client may read: the first line, at most `limit`
    characters, this server's file paths taken out (a temp dir, the data dir)."""
    lines = text.strip().splitlines()
    return _PATH.sub("(a file)", lines[0])[:limit] if lines else ""


class MedialibError(Exception):
    code: ClassVar[str] = "internal_error"
    status_code: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal error."
    # Seconds after which a retry may succeed (the `Retry-After` header); None: do not retry.
    default_retry_after: ClassVar[int | None] = None

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, **details: Any
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.retry_after = retry_after if retry_after is not None else self.default_retry_after
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class Unauthorized(MedialibError):
    code = "unauthorized"
    status_code = 401
    default_message = "A valid API key is required (Authorization: Bearer <key>)."


class Forbidden(MedialibError):
    code = "forbidden"
    status_code = 403
    default_message = "The request is not allowed."


class NotFound(MedialibError):
    code = "not_found"
    status_code = 404
    default_message = "Not found."


class ValidationFailed(MedialibError):
    code = "validation_error"
    status_code = 422
    default_message = "The request is invalid."


class MalformedBody(ValidationFailed):
    status_code = 400
    default_message = "The request body is not valid JSON."


class UploadMissing(MedialibError):
    code = "upload_missing"
    status_code = 400
    default_message = (
        "No uploaded bytes were found for this media; PUT them to the upload_url first."
    )


class InvalidState(MedialibError):
    code = "invalid_state"
    status_code = 409
    default_message = "The media is not in a state that allows this."


class PayloadTooLarge(MedialibError):
    code = "payload_too_large"
    status_code = 413
    default_message = "The upload is larger than allowed."


class QuotaExceeded(MedialibError):
    code = "quota_exceeded"
    status_code = 413
    default_message = "The workspace's storage quota would be exceeded."


class UnsupportedMediaType(MedialibError):
    code = "unsupported_media_type"
    status_code = 415
    default_message = "This type of file is not supported."


class ContentTypeMismatch(MedialibError):
    code = "content_type_mismatch"
    status_code = 415
    default_message = "The file's bytes are not of the declared type."


class ImageTooLarge(MedialibError):
    code = "image_too_large"
    status_code = 422
    default_message = "The image has more pixels than allowed."


class MediaProcessingFailed(MedialibError):
    code = "processing_failed"
    status_code = 422
    default_message = "The file could not be processed."


class MediaRejectedSecurity(MedialibError):
    code = "media_rejected_security"
    status_code = 422
    default_message = "The virus scanner found a threat in the file; it was not kept."


class ScanIncomplete(MedialibError):
    code = "scan_incomplete"
    status_code = 422
    default_message = (
        "The file could not be scanned completely (it is past the scanner's limits); "
        "it was not kept."
    )


class UrlNotAllowed(MedialibError):
    code = "url_not_allowed"
    status_code = 422
    default_message = "This URL cannot be fetched."


class ImportFailed(MedialibError):
    code = "import_failed"
    status_code = 502
    default_message = "The file could not be fetched from that URL."


class TusVersionUnsupported(MedialibError):
    code = "tus_version_unsupported"
    status_code = 412
    default_message = "Send `Tus-Resumable: 1.0.0`; it is the version this server speaks."


class UploadOffsetMismatch(MedialibError):
    code = "upload_offset_mismatch"
    status_code = 409
    default_message = "Upload-Offset is not where the upload is; ask with HEAD and resume."


class UploadExpired(MedialibError):
    code = "upload_expired"
    status_code = 410
    default_message = "The upload expired and its bytes were removed; start a new one."


class UploadBusy(MedialibError):
    code = "upload_locked"
    status_code = 423
    default_message = "Another request is sending bytes to this upload; try again shortly."
    default_retry_after = 1


class ChecksumMismatch(MedialibError):
    code = "checksum_mismatch"
    status_code = 460  # tus checksum extension
    default_message = "The bytes do not match Upload-Checksum; they were not kept."


class RangeNotSatisfiable(MedialibError):
    code = "range_not_satisfiable"
    status_code = 416
    default_message = "The range asked for is outside the file."


class MediaValidationFailed(MedialibError):
    code = "media_validation_failed"
    status_code = 422
    default_message = "The post's media do not meet every target's rules; see errors."


class MediaInUse(MedialibError):
    code = "media_in_use"
    status_code = 409
    default_message = "A scheduled post uses this media; delete or change the post first."


class IdempotencyKeyReused(MedialibError):
    code = "idempotency_key_reused"
    status_code = 422
    default_message = "This Idempotency-Key was used for another request; use a new key."


class IdempotencyInProgress(MedialibError):
    code = "idempotency_in_progress"
    status_code = 409
    default_message = "A request with this Idempotency-Key is still running; retry later."


class ServiceUnavailable(MedialibError):
    code = "service_unavailable"
    status_code = 503
    default_message = "A service medialib depends on is unavailable; try again shortly."
    default_retry_after = 5


class GenerationUnavailable(MedialibError):
    code = "generation_unavailable"
    status_code = 409
    default_message = "No generation provider of this kind is configured on this server."


class GenerationFailed(MedialibError):
    """The provider refused, failed, timed out, or sent something that is not media."""

    code = "generation_failed"
    status_code = 502
    default_message = "The generation provider did not make the media."


class RateLimited(MedialibError):
    code = "rate_limited"
    status_code = 429
    default_message = "Too many requests; slow down and try again shortly."
    default_retry_after = 1


_BY_CODE: dict[str, type[MedialibError]] = {}


def _register(cls: type[MedialibError]) -> None:
    _BY_CODE.setdefault(cls.code, cls)
    for sub in cls.__subclasses__():
        _register(sub)


_register(MedialibError)


def error_from_dict(payload: dict[str, Any]) -> MedialibError:
    """Rebuild a stored error (e.g. a failed confirm) so a repeated call answers the same."""
    details = {k: v for k, v in payload.items() if k not in ("code", "message")}
    cls = _BY_CODE.get(str(payload.get("code")), MedialibError)
    return cls(str(payload.get("message") or cls.default_message), **details)


def readable_size(size: int) -> str:
    """Bytes as people read them in a message: 30 MB, 1.5 GB, 512 KB (powers of 1000)."""
    value, unit = float(size), "bytes"
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            break
        value /= 1000
    if unit == "bytes":
        return f"{size} bytes"
    return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"


KIND_NOUNS = {
    "image": "an image",
    "gif": "a GIF",
    "video": "a video",
    "audio": "an audio file",
    "document": "a document",
}


def too_big_message(kind: str, cap: int, size: int | None = None) -> str:
    noun = KIND_NOUNS.get(str(kind), f"a {kind}")
    cap_shown, size_shown = readable_size(cap), readable_size(size) if size is not None else ""
    if size is not None and size_shown == cap_shown:  # 30,000,001 bytes is not "30 MB"
        cap_shown, size_shown = f"{cap:,} bytes", f"{size:,} bytes"
    limit = f"{noun[0].upper()}{noun[1:]} may be at most {cap_shown} here"
    return f"{limit}; this file is {size_shown}." if size is not None else f"{limit}."


class CredentialsUnavailable(MedialibError):
    code = "credentials_unavailable"
    status_code = 409
    default_message = "Network credentials cannot be stored or read here."


class AccountCheckFailed(MedialibError):
    code = "account_check_failed"
    status_code = 422
    default_message = "The network refused these credentials."


class NetworkUnreachable(MedialibError):
    code = "network_unreachable"
    status_code = 502
    default_message = "The network did not answer in time; try again."
