from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from medialib.db import Base, StrEnumType, UTCDateTime, utcnow


class ConnectorName(enum.StrEnum):
    """How posts reach the network: medialib speaks its protocol (`bluesky`), or hands the
    post to the user's own publisher by a signed `post.due` webhook (`handoff`)."""

    BLUESKY = "bluesky"
    HANDOFF = "handoff"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (Index("ix_accounts_workspace", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    network: Mapped[str] = mapped_column(String(40))  # a platform id: bluesky, x, ...
    connector: Mapped[ConnectorName] = mapped_column(StrEnumType(ConnectorName, 16))
    handle: Mapped[str] = mapped_column(String(300))
    # Where the network's API is (Bluesky: the account's PDS), when the connector needs one.
    service_url: Mapped[str | None] = mapped_column(String(2000))
    # The network's id of the account (Bluesky: its DID), learnt when it was checked.
    remote_id: Mapped[str | None] = mapped_column(String(300))
    # Sealed (accounts/sealing.py): what the user gave (an app password), and what the
    # network gave back (session tokens). Never in an answer, a log or an event.
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    session: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How its publisher sends files: "url" (the network fetches the plan's URL) or "upload"
    # (the bytes are uploaded); where a network caps the two differently, the plan follows.
    sends_files: Mapped[str] = mapped_column(String(8), default="url", server_default="url")
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
