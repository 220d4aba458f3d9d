from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from medialib.accounts.models import ConnectorName
from medialib.schemas import Strict

Secret = Annotated[str, Field(min_length=1, max_length=1000)]
SecretKey = Annotated[str, Field(min_length=1, max_length=40)]


class AccountIn(Strict):
    """An account on a network. `connector`: `bluesky` (medialib publishes through the AT
    Protocol: give the handle and an app password) or `handoff` (your own publisher gets
    a signed `post.due` webhook and reports the result; any network). Defaults to the
    network's own connector where medialib has one, else `handoff`."""

    network: str = Field(min_length=1, max_length=40)
    connector: ConnectorName | None = None
    handle: str = Field(min_length=1, max_length=300)
    # Bluesky: the account's PDS (https://bsky.social unless it lives elsewhere).
    service_url: str | None = Field(default=None, min_length=1, max_length=2000)
    # Bluesky: {"app_password": "..."}. Sealed at rest, never returned.
    credentials: dict[SecretKey, Secret] = Field(default_factory=dict, max_length=8)
    # How the publisher sends files: "url" (the network fetches the plan's URL; the
    # default for hand-off) or "upload" (medialib's own connectors upload). Where a network
    # caps the two differently (Telegram: 20 MB by URL, 50 MB uploaded), the plan follows.
    sends_files: Literal["url", "upload"] | None = None


class AccountUpdate(Strict):
    handle: str | None = Field(default=None, min_length=1, max_length=300)
    service_url: str | None = Field(default=None, min_length=1, max_length=2000)
    credentials: dict[SecretKey, Secret] | None = Field(default=None, max_length=8)
    sends_files: Literal["url", "upload"] | None = None


class AccountOut(BaseModel):
    id: str
    network: str
    connector: ConnectorName
    handle: str
    service_url: str | None
    remote_id: str | None  # Bluesky: the account's DID
    has_credentials: bool
    sends_files: Literal["url", "upload"]
    checked_at: dt.datetime | None
    created_at: dt.datetime


class AccountList(BaseModel):
    data: list[AccountOut]
