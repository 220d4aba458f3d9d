"""Choose the object store from `MEDIALIB_STORAGE_URL`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from medialib.config import Settings
from medialib.storage.base import ObjectStore
from medialib.storage.local import LocalObjectStore
from medialib.storage.signing import SigningKeys


def open_store(settings: Settings) -> ObjectStore:
    url = urlsplit(settings.resolved_storage_url)
    if url.scheme == "file":
        return LocalObjectStore(
            Path(url.path),
            signing_keys=SigningKeys.load_or_create(settings.resolved_data_dir),
            public_base_url=settings.public_base_url,
        )
    if url.scheme == "s3":
        from medialib.storage.s3 import S3ObjectStore

        return S3ObjectStore.from_url(
            settings.resolved_storage_url, public_base_url=settings.public_base_url
        )
    raise ValueError(f"Unsupported MEDIALIB_STORAGE_URL scheme: {url.scheme!r} (file:// or s3://)")
