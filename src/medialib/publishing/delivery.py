"""What one target sends, read once in the publisher's first transaction (plain data, no
rows), and the two ways it goes: through a connector, or handed to the user's publisher
by a signed `post.due` webhook that carries the plan (each file's URL, SHA-256, size,
type, dimensions, alt text, cover, crop) and where to report the result."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from medialib.accounts.models import Account, ConnectorName
from medialib.accounts.service import AccountService, network_policy
from medialib.connectors.base import OutgoingFile, OutgoingPost, Published, Refused
from medialib.connectors.bluesky import BlueskyConnector, BlueskySession, Xrpc
from medialib.db import session_scope, utcnow
from medialib.errors import MedialibError
from medialib.fetch import deadline_for
from medialib.jobs.names import JobName
from medialib.jobs.payloads import TargetJob
from medialib.jobs.queue import enqueue
from medialib.platforms.rules import catalog
from medialib.posts.checking import TargetPlan
from medialib.posts.models import Post, PostTarget
from medialib.runtime import Runtime
from medialib.storage.base import ObjectBytes
from medialib.webhooks.events import EventType
from medialib.webhooks.outbox import emit


@dataclass(frozen=True, slots=True)
class FileWork:
    key: str
    url: str
    content_type: str
    size: int | None
    width: int | None
    height: int | None
    checksum_sha256: str | None
    duration_ms: int | None
    alt_text: str
    cover_url: str | None = None
    crop: dict[str, int] | None = None

    @property
    def kind(self) -> str:
        return "video" if self.content_type.startswith("video/") else "image"


@dataclass(frozen=True, slots=True)
class TargetWork:
    target_id: str
    post_id: str
    workspace_id: str
    platform: str
    account_id: str | None
    account_handle: str | None
    connector: ConnectorName | None  # None: no account to publish as
    text: str
    langs: list[str]
    form: str | None
    attempts: int
    files: list[FileWork] = field(default_factory=list)
    blocking: list[tuple[str, str]] = field(default_factory=list)  # (code, message)

    def refusal(self) -> tuple[str, str] | None:
        """Why this target cannot go now (code, message), if it cannot."""
        if self.connector is None:
            network = catalog().networks.get(self.platform)
            name = network.name if network is not None else self.platform
            return (
                "no_account",
                f"No {name} account to publish as: add one in Settings → Accounts "
                "and name it in the post's target.",
            )
        pending = [reason for reason in self.blocking if reason[0] == "variant_pending"]
        found = pending or self.blocking
        return found[0] if found else None

    def outgoing(self, store: ObjectBytes, key: str, started_at: dt.datetime) -> OutgoingPost:
        return OutgoingPost(
            text=self.text,
            files=[
                OutgoingFile(
                    kind=file.kind,
                    content_type=file.content_type,
                    size=file.size or store_size(store, file.key),
                    width=file.width,
                    height=file.height,
                    read=functools.partial(store.iter_bytes, file.key),
                    alt_text=file.alt_text,
                    duration_ms=file.duration_ms,
                )
                for file in self.files
            ],
            idempotency_key=key,
            created_at=started_at,
            form=self.form,
            langs=self.langs,
        )


def work_of(post: Post, plan: TargetPlan, account: Account | None) -> TargetWork:
    planned = plan.planned
    blocking = [(r.code, r.message) for r in planned.reasons]
    for item in planned.media:
        if item.blocking:
            blocking += [(r.code, f"{item.media_id}: {r.message}") for r in item.reasons]
    by_media = {m.media_id: m for m in planned.media}
    files = []
    for out in plan.outgoing:
        shown = by_media[out.media.id]
        files.append(
            FileWork(
                key=out.file.key,
                url=shown.url or "",
                content_type=out.file.content_type,
                size=out.file.size,
                width=out.file.width,
                height=out.file.height,
                checksum_sha256=out.file.checksum_sha256,
                duration_ms=out.file.duration_ms,
                alt_text=out.item.alt_text or "",
                cover_url=shown.cover_url,
                crop=out.file.crop,
            )
        )
    usable = account is not None and account.network == plan.target.platform
    return TargetWork(
        target_id=plan.target.id,
        post_id=post.id,
        workspace_id=post.workspace_id,
        platform=plan.target.platform,
        account_id=plan.target.account_id,
        account_handle=account.handle if account is not None else None,
        connector=account.connector if usable and account is not None else None,
        text=post.text,
        langs=list(post.langs or []),
        form=planned.form,
        attempts=plan.target.attempts,
        files=files,
        blocking=[] if planned.ok else blocking,
    )


def send(runtime: Runtime, work: TargetWork, post: OutgoingPost) -> Published:
    """Through the account's connector; its refreshed session is kept (sealed) as it comes."""
    settings = runtime.settings
    with session_scope(runtime.session_factory) as session:
        accounts = AccountService(session, settings=settings)
        try:
            account = accounts.get_by_id(work.account_id or "")
            password = accounts.password_of(account)
            session_now = accounts.session_of(account)
        except MedialibError as exc:
            raise Refused("credentials_unreadable", exc.message) from exc
        service_url, handle, account_id = account.service_url, account.handle, account.id
    assert service_url is not None
    policy = network_policy(settings, seconds=settings.publish_request_seconds)
    xrpc = Xrpc(service_url, policy, by=deadline_for(policy), fetcher=runtime.fetcher)

    def keep(session_new: BlueskySession) -> None:
        with session_scope(runtime.session_factory) as session:
            service = AccountService(session, settings=settings)
            service.keep_session(service.get_by_id(account_id), session_new)

    connector = BlueskyConnector(
        xrpc, handle=handle, password=password, session=session_now, on_session=keep
    )
    return connector.publish(post)


def hand_off(session: Session, runtime: Runtime, work: TargetWork, target: PostTarget) -> None:
    """The `post.due` event for the user's publisher, and the time-out that fails the
    target if no result comes back; in the caller's transaction."""
    settings = runtime.settings
    base = settings.public_base_url
    data: dict[str, Any] = {
        "post_id": work.post_id,
        "target_id": work.target_id,
        "platform": work.platform,
        "account_id": work.account_id,
        "handle": work.account_handle,
        "text": work.text,
        "langs": work.langs,
        "form": work.form,
        "idempotency_key": target.idempotency_key,
        "result_url": f"{base}/v1/posts/{work.post_id}/targets/{work.target_id}/result",
        "answer_by": (utcnow() + _seconds(settings.handoff_timeout)).isoformat(),
        "files": [_described(runtime.store, file) for file in work.files],
    }
    emit(session, settings, work.workspace_id, EventType.POST_DUE, data)
    enqueue(
        session,
        JobName.HANDOFF_TIMEOUT,
        TargetJob(target_id=work.target_id),
        max_attempts=settings.job_max_attempts,
        run_after=utcnow() + _seconds(settings.handoff_timeout),
    )


def _described(store: ObjectBytes, file: FileWork) -> dict[str, Any]:
    return {
        "url": file.url,
        "sha256": file.checksum_sha256 or store_sha256(store, file.key),
        "size": file.size or store_size(store, file.key),
        "content_type": file.content_type,
        "width": file.width,
        "height": file.height,
        "duration_ms": file.duration_ms,
        "alt_text": file.alt_text,
        "cover_url": file.cover_url,
        "crop": file.crop,
    }


def store_size(store: ObjectBytes, key: str) -> int:
    info = store.stat(key)
    return info.size if info is not None else 0


def store_sha256(store: ObjectBytes, key: str) -> str:
    info = store.stat(key)
    if info is not None and info.sha256:
        return info.sha256
    digest = hashlib.sha256()
    for chunk in store.iter_bytes(key):
        digest.update(chunk)
    return digest.hexdigest()


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)
