"""Import from a URL: fetched through the SSRF-safe fetcher, then the same intake as any
upload. Probe looks at the first bytes only and keeps nothing."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from python_multipart.multipart import parse_options_header

from medialib.config import Settings
from medialib.fetch import Fetched, FetchPolicy, fetch
from medialib.ids import new_id
from medialib.media.intake import ConfirmOutcome, storage_key_for
from medialib.media.models import MediaKind
from medialib.processing import sniff
from medialib.processing.filenames import clean_filename
from medialib.runtime import Runtime
from medialib.uploads.flows import StoredBytes, confirm_stored
from medialib.uploads.schemas import ImportRequest, ProbeRequest, ProbeResult
from medialib.workspaces.models import Workspace


def policy_for(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        allow_http=settings.import_allow_http,
        allow_loopback=settings.allow_loopback_targets,
        read_timeout=settings.import_read_timeout_seconds,
        deadline_seconds=settings.import_deadline_seconds,
    )


def probe_url(settings: Settings, request: ProbeRequest, by: float | None = None) -> ProbeResult:
    """`by`: the moment (`time.monotonic()`) the caller's request must end by."""
    with fetch(request.url, policy_for(settings), by=by) as fetched:
        head = b""
        for chunk in fetched.iter_bytes(max_bytes=settings.import_max_bytes):
            head += chunk
            if len(head) >= sniff.SNIFF_BYTES:
                break
        detected = sniff.sniff(head[: sniff.SNIFF_BYTES])
        length = fetched.response.headers.get("content-length", "")
        encoded = fetched.response.headers.get("content-encoding", "identity") != "identity"
        kind = sniff.kind_of(detected) if detected else None
        return ProbeResult(
            url=request.url,
            final_url=fetched.url,
            filename=_filename(fetched, None),
            content_type=detected,
            kind=MediaKind(kind) if kind else None,
            declared_content_type=sniff.normalise_mime(fetched.response.headers.get("content-type"))
            or None,
            size=int(length) if length.isdigit() and not encoded else None,
        )


def import_url(
    runtime: Runtime, workspace: Workspace, request: ImportRequest, by: float | None = None
) -> ConfirmOutcome:
    """`by`: the moment (`time.monotonic()`) the caller's request must end by: the time it
    waited for a turn counts."""
    media_id = new_id("med")
    storage_key = storage_key_for(workspace.id, media_id)
    cap = runtime.settings.import_max_bytes
    with fetch(request.url, policy_for(runtime.settings), by=by) as fetched:
        declared = sniff.normalise_mime(fetched.response.headers.get("content-type")) or None
        writer = runtime.store.open_writer(
            storage_key,
            content_type=declared or "application/octet-stream",
            max_bytes=cap,
            exclusive=True,
        )
        try:
            for chunk in fetched.iter_bytes(max_bytes=cap):
                writer.write(chunk)
            writer.commit()
        finally:
            writer.abort()  # no-op after a commit
        filename = _filename(fetched, request.filename)
    stored = StoredBytes(
        media_id=media_id,
        storage_key=storage_key,
        filename=filename,
        declared_content_type=declared,
        kind=request.kind,
        tags=request.tags,
        description=request.description,
        tenant_id=request.tenant_id,
    )
    return confirm_stored(runtime, workspace, stored)


def _filename(fetched: Fetched, given: str | None) -> str:
    """The name asked for, else the server's Content-Disposition, else the URL's last part."""
    if given:
        return clean_filename(given)
    _, options = parse_options_header(fetched.response.headers.get("content-disposition", ""))
    from_header = options.get(b"filename")
    if from_header:
        return clean_filename(from_header.decode("utf-8", errors="replace"))
    last = unquote(urlsplit(fetched.url).path.rsplit("/", 1)[-1])
    return clean_filename(last or "import")
