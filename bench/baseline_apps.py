"""Baselines for the API load benchmark, each served by uvicorn with the same settings as
medialib:

- `bare`: a FastAPI route that returns a fixed JSON object (the framework's ceiling);
- `minimal`: a minimal FastAPI app doing the same work as `GET /v1/media/{id}`: look up
  the key (by its lookup part, compare its SHA-256), read the media row by id, return its
  columns as JSON, on the same database;
- `steps`: the three HTTP steps of an upload (request, PUT, confirm) with no database.

Run as `python -m bench.baseline_apps KIND DATABASE_URL PORT`.
"""

from __future__ import annotations

import hashlib
import hmac
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
        key = authorization.removeprefix("Bearer ").strip()
        lookup = key.removeprefix("mlk_").split("_", 1)[0]
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT workspace_id, key_sha256 FROM api_keys WHERE lookup_prefix = :p"),
                {"p": lookup},
            ).first()
            digest = hashlib.sha256(key.encode()).hexdigest()
            if row is None or not hmac.compare_digest(row.key_sha256, digest):
                raise HTTPException(401)
            found = connection.execute(
                text("SELECT * FROM media WHERE id = :id AND workspace_id = :ws"),
                {"id": media_id, "ws": row.workspace_id},
            ).first()
        if found is None:
            raise HTTPException(404)
        return {name: _plain(value) for name, value in found._mapping.items()}

    return app


def steps() -> FastAPI:
    app = FastAPI()
    folder = Path(tempfile.mkdtemp(prefix="bare-steps-"))

    @app.post("/upload")
    def upload() -> dict[str, str]:
        token = secrets.token_hex(8)
        return {"id": token, "upload_url": f"/put/{token}"}

    @app.put("/put/{token}")
    async def put(token: str, request: Request) -> dict[str, int]:
        data = await request.body()
        (folder / token).write_bytes(data)
        return {"size": len(data)}

    @app.post("/confirm/{token}")
    def confirm(token: str) -> dict[str, Any]:
        return {"id": token, "status": "ready", "size": (folder / token).stat().st_size}

    return app


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str | type(None)) else str(value)


if __name__ == "__main__":
    kind, database, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    made = {"bare": bare, "steps": steps}.get(kind)
    application = made() if made else minimal(database)
    # The same server and protocol settings as `medialib serve`.
    uvicorn.Server(
        uvicorn_config(application, host="127.0.0.1", port=port, log_level="warning")
    ).run()
