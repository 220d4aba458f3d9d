"""Baselines for the API load benchmark, each served by uvicorn with the same settings as
medialib:

- `bare`: a FastAPI route that returns a fixed JSON object (the framework's ceiling);
- `minimal`: a minimal FastAPI app doing the same work as `GET /v1/media/{id}`: look up
  the key (by its lookup part, compare its SHA-256), read the media row by id, return its
  columns as JSON, on the same database;
- `steps`: the three steps of an upload (request, PUT, confirm) with the database rows,
  the SHA-256 and the fsync medialib does, and nothing else (see its docstring).

Run as `python -m bench.baseline_apps KIND DATABASE_URL PORT`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request
from sqlalchemy import create_engine, text

from medialib.server import uvicorn_config


def bare() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/media/{media_id}")
    def media(media_id: str) -> dict[str, Any]:
        return {"id": media_id, "kind": "image", "status": "ready", "size": 1234}

    return app


def minimal(database_url: str) -> FastAPI:
    app = FastAPI()
    engine = create_engine(database_url, pool_size=24, max_overflow=0)

    @app.get("/v1/media/{media_id}")
    def media(media_id: str, authorization: str = Header()) -> dict[str, Any]:
        with engine.connect() as connection:
            workspace = _workspace_of(connection, authorization)
            found = connection.execute(
                text("SELECT * FROM media WHERE id = :id AND workspace_id = :ws"),
                {"id": media_id, "ws": workspace},
            ).first()
        if found is None:
            raise HTTPException(404)
        return {name: _plain(value) for name, value in found._mapping.items()}

    return app


def steps(database_url: str) -> FastAPI:
    """The three steps of an upload doing the same kind of work medialib does, as lean as
    it can be written: a row for the upload (key checked as `minimal` does), the bytes
    written with their SHA-256 taken as they arrive and fsynced before the answer, and a
    confirm that reads the file's first bytes (its type), checks the checksum against the
    bytes on disk and marks the row ready. No scan, no probe, no thumbnail, no job."""
    app = FastAPI()
    engine = create_engine(database_url, pool_size=24, max_overflow=0)
    folder = Path(tempfile.mkdtemp(prefix="bare-steps-"))
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bare_uploads"))
        connection.execute(
            text(
                "CREATE TABLE bare_uploads (id VARCHAR(40) PRIMARY KEY, workspace_id "
                "VARCHAR(40), status VARCHAR(16), size INTEGER, sha256 VARCHAR(64))"
            )
        )

    def workspace_of(authorization: str) -> str:
        with engine.connect() as connection:
            return _workspace_of(connection, authorization)

    @app.post("/upload")
    def upload(authorization: str = Header()) -> dict[str, str]:
        workspace = workspace_of(authorization)
        token = secrets.token_hex(8)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO bare_uploads (id, workspace_id, status) VALUES (:i, :w, 'new')"),
                {"i": token, "w": workspace},
            )
        return {"id": token, "upload_url": f"/put/{token}"}

    @app.put("/put/{token}")
    async def put(token: str, request: Request) -> dict[str, int]:
        digest, size = hashlib.sha256(), 0
        with (folder / token).open("wb") as file:
            async for chunk in request.stream():
                digest.update(chunk)
                file.write(chunk)
                size += len(chunk)
            file.flush()
            os.fsync(file.fileno())
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE bare_uploads SET size = :s, sha256 = :d WHERE id = :i"),
                {"s": size, "d": digest.hexdigest(), "i": token},
            )
        return {"size": size}

    @app.post("/confirm/{token}")
    def confirm(token: str, authorization: str = Header()) -> dict[str, Any]:
        workspace = workspace_of(authorization)
        path = folder / token
        with path.open("rb") as file:
            head = file.read(16)
            again = hashlib.sha256(head + file.read()).hexdigest()
        with engine.begin() as connection:
            row = connection.execute(
                text("SELECT sha256 FROM bare_uploads WHERE id = :i AND workspace_id = :w"),
                {"i": token, "w": workspace},
            ).first()
            if row is None or row.sha256 != again:
                raise HTTPException(409)
            connection.execute(
                text("UPDATE bare_uploads SET status = 'ready' WHERE id = :i"), {"i": token}
            )
        kind = "image/jpeg" if head.startswith(b"\xff\xd8") else "application/octet-stream"
        return {"id": token, "status": "ready", "size": path.stat().st_size, "type": kind}

    return app


def _workspace_of(connection: Any, authorization: str) -> str:
    """The key checked as medialib checks it: found by its lookup part, its SHA-256
    compared in constant time; 401 otherwise."""
    key = authorization.removeprefix("Bearer ").strip()
    lookup = key.removeprefix("mlk_").split("_", 1)[0]
    row = connection.execute(
        text("SELECT workspace_id, key_sha256 FROM api_keys WHERE lookup_prefix = :p"),
        {"p": lookup},
    ).first()
    digest = hashlib.sha256(key.encode()).hexdigest()
    if row is None or not hmac.compare_digest(row.key_sha256, digest):
        raise HTTPException(401)
    return str(row.workspace_id)


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str | type(None)) else str(value)


if __name__ == "__main__":
    kind, database, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    application = {"bare": bare, "steps": lambda: steps(database)}.get(
        kind, lambda: minimal(database)
    )()
    # The same server and protocol settings as `medialib serve`.
    uvicorn.Server(
        uvicorn_config(application, host="127.0.0.1", port=port, log_level="warning")
    ).run()
