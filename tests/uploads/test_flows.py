"""The confirm flow's branches, in process and fast: a real SQLite database, the in-memory
object store and the fake scanner (the real ClamAV daemon and the HTTP routes are tested
in tests/scanning/ and tests/media/; here the point is every branch of the flow itself).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from medialib.config import Settings
from medialib.db import make_engine, make_session_factory, migrate, session_scope
from medialib.errors import MedialibError, ServiceUnavailable
from medialib.jobs.models import Job
from medialib.media.intake import ConfirmOutcome, MediaIntake
from medialib.media.models import Media, MediaStatus, ScanStatus
from medialib.media.records import DerivedFile
from medialib.media.schemas import UploadRequest
from medialib.media.serving import may_serve
from medialib.runtime import Runtime
from medialib.scanning.fake import EICAR_SIGNATURE, FakeScanner
from medialib.storage.memory import MemoryObjectStore
from medialib.uploads import flows
from medialib.workspaces.keys import get_or_create_workspace
from medialib.workspaces.models import Workspace
from medialib.workspaces.service import WorkspaceService
from tests import mediafiles


@dataclass
class Bench:
    runtime: Runtime
    store: MemoryObjectStore
    scanner: FakeScanner
    workspace: Workspace
    jpeg: bytes

    def with_scanning(self, *, inline_max_bytes: int = 10**9) -> Bench:
        settings = self.runtime.settings.model_copy(
            update={"clamd_url": "tcp://fake:1", "scan_inline_max_bytes": inline_max_bytes}
        )
        runtime = Runtime(
            settings=settings,
            session_factory=self.runtime.session_factory,
            store=self.store,
            scanner=self.scanner,
        )
        return Bench(runtime, self.store, self.scanner, self.workspace, self.jpeg)

    def uploaded(self, data: bytes, *, filename: str = "photo.jpg") -> str:
        """A media whose bytes were sent to its upload URL (not confirmed yet)."""
        with session_scope(self.runtime.session_factory) as session:
            intake = MediaIntake(session, store=self.store, settings=self.runtime.settings)
            upload = intake.request_upload(self.workspace, UploadRequest(filename=filename))
            media_id, key = upload.media.id, upload.media.storage_key
        writer = self.store.open_writer(key, content_type="image/jpeg", max_bytes=len(data))
        writer.write(data)
        writer.commit()
        return media_id

    def media(self, media_id: str) -> Media:
        with session_scope(self.runtime.session_factory) as session:
            media = session.get(Media, media_id)
            assert media is not None
            session.expunge(media)
            return media

    def jobs_for(self, media_id: str) -> list[str]:
        with session_scope(self.runtime.session_factory) as session:
            return [job.name for job in session.query(Job) if job.payload["media_id"] == media_id]


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'flows.db'}")
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    factory = make_session_factory(engine)
    store = MemoryObjectStore()
    with session_scope(factory) as session:
        workspace = get_or_create_workspace(session, "flows")
    jpeg = mediafiles.jpeg(tmp_path / "photo.jpg").read_bytes()
    runtime = Runtime(settings=settings, session_factory=factory, store=store, scanner=None)
    yield Bench(runtime, store, FakeScanner(), workspace, jpeg)
    engine.dispose()


def _refusal(outcome: ConfirmOutcome) -> MedialibError:
    assert outcome.error is not None, outcome.media.status
    return outcome.error


def test_scanning_off_confirms_without_asking_a_scanner(bench: Bench) -> None:
    media_id = bench.uploaded(bench.jpeg)
    outcome = flows.confirm_upload(bench.runtime, bench.workspace, media_id)
    assert outcome.error is None and outcome.media.status == MediaStatus.READY
    assert bench.media(media_id).scan_status == ScanStatus.OFF
    assert bench.scanner.scans == 0
    assert bench.jobs_for(media_id) == ["media.process_image"]


def test_clean_bytes_are_scanned_once_and_ready(bench: Bench) -> None:
    scanning = bench.with_scanning()
    media_id = scanning.uploaded(bench.jpeg)
    outcome = flows.confirm_upload(scanning.runtime, bench.workspace, media_id)
    assert outcome.media.status == MediaStatus.READY
    assert bench.media(media_id).scan_status == ScanStatus.CLEAN
    assert bench.scanner.scans == 1
    again = flows.confirm_upload(scanning.runtime, bench.workspace, media_id)
    assert again.media.status == MediaStatus.READY and bench.scanner.scans == 1


def test_a_threat_is_refused_its_bytes_removed_and_the_refusal_repeated(bench: Bench) -> None:
    scanning = bench.with_scanning()
    media_id = scanning.uploaded(bench.jpeg + EICAR_SIGNATURE)
    key = bench.media(media_id).storage_key
    refusal = _refusal(flows.confirm_upload(scanning.runtime, bench.workspace, media_id))
    assert refusal.code == "media_rejected_security"
    assert refusal.details["threat"] == "Eicar-Signature"
    assert bench.store.stat(key) is None
    assert bench.media(media_id).status == MediaStatus.FAILED
    repeated = _refusal(flows.confirm_upload(scanning.runtime, bench.workspace, media_id))
    assert repeated.code == "media_rejected_security"


def test_bytes_too_big_to_scan_now_wait_unserved_for_their_job(bench: Bench) -> None:
    scanning = bench.with_scanning(inline_max_bytes=10)
    first = scanning.uploaded(bench.jpeg)
    flows.confirm_upload(bench.runtime, bench.workspace, first)  # scanning off: ready
    media_id = scanning.uploaded(bench.jpeg)
    outcome = flows.confirm_upload(scanning.runtime, bench.workspace, media_id)
    media = bench.media(media_id)
    assert outcome.media.status == MediaStatus.PROCESSING  # a JPEG, yet not ready unscanned
    assert media.scan_status == ScanStatus.PENDING and bench.scanner.scans == 0
    assert media.duplicate_of is None  # unscanned bytes are never passed off as done
    assert bench.jobs_for(media_id) == ["media.process_image"]
    with session_scope(bench.runtime.session_factory) as session:
        assert not may_serve(session, media.storage_key)


def test_a_scanner_that_cannot_answer_keeps_the_upload_for_a_retry(bench: Bench) -> None:
    scanning = bench.with_scanning()
    media_id = scanning.uploaded(bench.jpeg)
    bench.scanner.available = False
    with pytest.raises(ServiceUnavailable):
        flows.confirm_upload(scanning.runtime, bench.workspace, media_id)
    media = bench.media(media_id)
    assert media.status == MediaStatus.PENDING_UPLOAD
    assert bench.store.stat(media.storage_key) is not None
    bench.scanner.available = True
    assert flows.confirm_upload(scanning.runtime, bench.workspace, media_id).error is None


def test_the_same_bytes_again_reuse_the_earlier_processing(bench: Bench) -> None:
    first = bench.uploaded(bench.jpeg)
    flows.confirm_upload(bench.runtime, bench.workspace, first)
    second = bench.uploaded(bench.jpeg, filename="again.jpg")
    outcome = flows.confirm_upload(bench.runtime, bench.workspace, second)
    media = bench.media(second)
    assert outcome.media.status == MediaStatus.READY and media.duplicate_of == first
    assert "media.process_image" not in bench.jobs_for(second)


def test_the_same_bytes_whose_earlier_files_are_gone_are_processed_afresh(bench: Bench) -> None:
    """The earlier media's preview was lost from the store (a bucket's lifecycle rule, a
    hand that cleaned up): the new one cannot reuse it, so it is processed as new."""
    first = bench.uploaded(bench.jpeg)
    flows.confirm_upload(bench.runtime, bench.workspace, first)
    kept = bench.uploaded(bench.jpeg + b"other", filename="kept.jpg")
    flows.confirm_upload(bench.runtime, bench.workspace, kept)
    preview = f"{bench.media(first).storage_key}.thumb.jpg"
    bench.store.copy(bench.media(kept).storage_key, preview)  # a real object, then lost
    with session_scope(bench.runtime.session_factory) as session:
        earlier = session.get(Media, first)
        assert earlier is not None
        earlier.thumbnail = DerivedFile(key=preview, content_type="image/jpeg")
    bench.store.delete(preview)
    second = bench.uploaded(bench.jpeg, filename="again.jpg")
    outcome = flows.confirm_upload(bench.runtime, bench.workspace, second)
    media = bench.media(second)
    assert outcome.error is None and media.duplicate_of is None
    assert media.status == MediaStatus.READY and media.thumbnail is None
    assert "media.process_image" in bench.jobs_for(second)


def test_parallel_confirms_make_one_transition_and_give_one_answer(bench: Bench) -> None:
    media_id = bench.uploaded(bench.jpeg)
    outcomes: list[ConfirmOutcome] = []

    def confirm() -> None:
        outcomes.append(flows.confirm_upload(bench.runtime, bench.workspace, media_id))

    threads = [threading.Thread(target=confirm) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {outcome.media.status for outcome in outcomes} == {MediaStatus.READY}
    assert bench.jobs_for(media_id) == ["media.process_image"]  # one transition, one job


def test_confirms_racing_for_the_last_room_in_a_quota_take_turns(bench: Bench) -> None:
    with session_scope(bench.runtime.session_factory) as session:
        WorkspaceService(session).set_quota("flows", len(bench.jpeg) * 3 // 2)
    contenders = [bench.uploaded(bench.jpeg + bytes([n])) for n in range(4)]
    outcomes: dict[str, ConfirmOutcome] = {}

    def confirm(media_id: str) -> None:
        outcomes[media_id] = flows.confirm_upload(bench.runtime, bench.workspace, media_id)

    threads = [threading.Thread(target=confirm, args=(m,)) for m in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [m for m, outcome in outcomes.items() if outcome.error is None]
    refused = [_refusal(o).code for o in outcomes.values() if o.error is not None]
    assert len(accepted) == 1 and refused == ["quota_exceeded"] * 3
    for media_id in contenders:
        if media_id not in accepted:
            assert bench.store.stat(bench.media(media_id).storage_key) is None


def test_stored_bytes_that_never_become_a_media_are_removed(bench: Bench) -> None:
    def stored(data: bytes, media_id: str, folder: str = "t1") -> flows.StoredBytes:
        key = f"{bench.workspace.id}/{media_id}/{folder}/original"
        writer = bench.store.open_writer(key, content_type="image/jpeg", max_bytes=len(data))
        writer.write(data)
        writer.commit()
        return flows.StoredBytes(media_id, key, "photo.jpg", "image/jpeg")

    kept = flows.confirm_stored(bench.runtime, bench.workspace, stored(bench.jpeg, "med_kept"))
    assert kept.error is None and bench.store.stat(kept.media.storage_key) is not None

    # Not a JPEG at all: refused at confirm, the refusal kept, the bytes removed.
    html = stored(b"<html><script>alert(1)</script></html>", "med_html")
    assert _refusal(flows.confirm_stored(bench.runtime, bench.workspace, html)).code
    assert bench.store.stat(html.storage_key) is None

    # The database refuses the row (the id is taken): nothing would own the bytes.
    clash = stored(bench.jpeg, "med_kept", folder="t2")
    with pytest.raises(IntegrityError):
        flows.confirm_stored(bench.runtime, bench.workspace, clash)
    assert bench.store.stat(clash.storage_key) is None
    assert bench.store.stat(kept.media.storage_key) is not None
