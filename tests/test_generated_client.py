"""A client generated from the OpenAPI document (openapi-python-client), used as it comes
out of the generator: upload → confirm → list → delete, and an error read as the
documented error model."""

from __future__ import annotations

import importlib
import inspect
import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.conftest import RunningServer

GENERATOR = shutil.which("openapi-python-client") or str(
    Path(sys.executable).parent / "openapi-python-client"
)


@pytest.fixture(scope="module")
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    server: RunningServer = request.getfixturevalue("server")
    folder = tmp_path_factory.mktemp("generated")
    document = folder / "openapi.json"
    document.write_text(httpx.get(f"{server.base_url}/openapi.json").text)
    result = subprocess.run(
        [
            GENERATOR,
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(folder / "medialib_generated"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("medialib_generated")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.startswith("medialib_generated")]:
            del sys.modules[name]


def test_a_generated_client_uploads_confirms_lists_and_deletes(
    generated: ModuleType, server: RunningServer, files: Path
) -> None:
    client_module = importlib.import_module("medialib_generated.client")
    models = importlib.import_module("medialib_generated.models")
    uploads = importlib.import_module("medialib_generated.api.uploads")
    media_api = importlib.import_module("medialib_generated.api.media")
    for name in ("request_upload", "confirm_upload"):
        importlib.import_module(f"medialib_generated.api.uploads.{name}")
    for name in ("list_media", "delete_media", "get_media"):
        importlib.import_module(f"medialib_generated.api.media.{name}")
    data = (files / "photo.jpg").read_bytes()
    with client_module.AuthenticatedClient(
        base_url=server.base_url, token=server.new_key()
    ) as client:
        upload = uploads.request_upload.sync(
            client=client, body=models.UploadRequest(filename="photo.jpg", size=len(data))
        )
        assert isinstance(upload, models.UploadResponse), upload
        # The bytes through the generated call too: it sends application/octet-stream.
        put = importlib.import_module("medialib_generated.api.uploads.put_signed_upload")
        types = importlib.import_module("medialib_generated.types")
        # The URL's query as the generated call's arguments (a name Python keeps, `max`,
        # comes out as `max_`).
        names = {name.rstrip("_"): name for name in inspect.signature(put.sync).parameters}
        signed = {names[k]: v for k, v in parse_qsl(urlsplit(upload.upload_url).query)}
        stored = put.sync(
            client=client, body=types.File(payload=io.BytesIO(data), file_name="photo.jpg"),
            **signed,
        )  # fmt: skip
        assert isinstance(stored, models.StoredUpload) and stored.size == len(data), stored
        media = uploads.confirm_upload.sync(media_id=upload.id, client=client)
        assert isinstance(media, models.MediaOut) and media.status.value == "ready"
        listed = media_api.list_media.sync(client=client)
        assert isinstance(listed, models.MediaList) and listed.pagination.total == 1
        deleted = media_api.delete_media.sync(media_id=media.id, client=client)
        assert isinstance(deleted, models.Deleted) and deleted.deleted
        missing = media_api.get_media.sync(media_id=media.id, client=client)
        assert isinstance(missing, models.Error) and missing.error.code == "not_found"
