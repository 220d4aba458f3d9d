"""The OpenAPI document a generated client can use as it is: the real error model
(`{"error": {...}}`) on every status an operation can answer, the key as a security
scheme (not as two optional header parameters), the bodies of the byte-moving routes
(multipart, binary, tus), tus headers as parameters, and short operation ids.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from medialib.storage.base import UPLOAD_PATH

_ERROR = {"$ref": "#/components/schemas/Error"}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable; branch on it."},
                "message": {"type": "string", "description": "Plain words for a person."},
            },
            "additionalProperties": True,
        }
    },
}
_DESCRIPTIONS = {
    "400": "Malformed request (a body that is not JSON, a bad header).",
    "401": "No key, or not a valid one.",
    "403": "The signed URL is altered, expired, or for another Content-Type.",
    "404": "No such thing in this workspace.",
    "409": "Not in a state that allows this (see `code`).",
    "410": "The resumable upload expired.",
    "412": "Tus-Resumable is missing or not 1.0.0.",
    "413": "Too large: `max_bytes` and `size` say by how much.",
    "415": "Not a type medialib takes, or not what was declared.",
    "422": "A value is not valid (`errors` lists them), or the media was refused.",
    "423": "Another request is sending bytes to this upload; retry after `Retry-After`.",
    "429": "Too many requests; retry after `Retry-After`.",
    "431": "Request headers over 64 KiB in all; the connection is closed.",
    "460": "The bytes do not match Upload-Checksum; they were not kept.",
    "502": "The server medialib asked (a URL's, a generation provider) failed or was unreachable.",
    "503": "A dependency is down or busy; retry after `Retry-After`.",
}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
_KEY_HEADERS = {"authorization", "x-api-key"}
_TUS_VERSION = {
    "name": "Tus-Resumable",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": ["1.0.0"]},
}


def install(app: FastAPI, *, server_url: str) -> None:
    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
                servers=[{"url": server_url, "description": "This server (MEDIALIB_PUBLIC_URL)"}],
                # No open-source licence has been chosen yet: say so rather than leave
                # a reader (or a linter) to guess.
                license_info={
                    "name": "All rights reserved (no licence chosen yet)",
                    "identifier": "LicenseRef-all-rights-reserved",  # SPDX: a custom one
                },
            )
            _complete(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def operation_id(route: APIRoute) -> str:
    """Short and stable: the route function's name (`request_upload`, `get_media`)."""
    return route.name


def _complete(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = _ERROR_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "`Bearer mlk_…`"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    request_bodies: set[str] = set()
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _document_operation(path, method.upper(), operation)
            request_bodies |= _body_schemas(operation)
    for name in request_bodies:
        _defaults_described(schemas.get(name, {}))


def _body_schemas(operation: dict[str, Any]) -> set[str]:
    content = operation.get("requestBody", {}).get("content", {})
    refs = {body.get("schema", {}).get("$ref", "") for body in content.values()}
    return {ref.rsplit("/", 1)[-1] for ref in refs if ref}


def _defaults_described(schema: dict[str, Any]) -> None:
    """A request field with a default is optional to send: its default is said in words,
    not as `default`, which some generators (openapi-typescript) read as "always there"
    and so make the field required in the request type."""
    for field in schema.get("properties", {}).values():
        if "default" in field:
            default = field.pop("default")
            shown = "null" if default is None else repr(default).replace("'", '"')
            said = f"Default: `{shown}`."
            field["description"] = (
                f"{field['description']} {said}" if "description" in field else said
            )


def _document_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    keyed = path.startswith("/v1/") and path != UPLOAD_PATH  # every API call takes a key
    operation["parameters"] = [
        p for p in parameters if p.get("name", "").lower() not in _KEY_HEADERS
    ]
    # A call without a key says so (`security: []`), rather than leaving it to be guessed.
    operation["security"] = _SECURITY if keyed else []
    _document_bodies(path, method, operation)
    codes = _error_codes(path, method, operation, keyed=keyed)
    responses = operation.setdefault("responses", {})
    if "422" not in codes:
        responses.pop("422", None)  # FastAPI's own, for parameters that are gone
    for code in sorted(codes):
        responses[code] = {
            "description": _DESCRIPTIONS[code],
            "content": {"application/json": {"schema": _ERROR}},
        }
    if not operation["parameters"]:
        del operation["parameters"]


def _error_codes(path: str, method: str, operation: dict[str, Any], *, keyed: bool) -> set[str]:
    codes = {"431"}  # refused by the server before any route (server.py)
    if path.startswith("/v1/"):
        codes.add("503")
    if keyed:
        codes |= {"401", "429"}
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        codes.add("404")
    if operation.get("parameters") or "requestBody" in operation:
        codes |= {"400", "422"}
    if "requestBody" in operation:
        codes.add("413")
    if method in ("POST", "PATCH", "DELETE", "PUT") and path.startswith("/v1/"):
        codes.add("409")
    if path.endswith(("/variants", "/plan")):
        codes.add("409")  # asked of media that is not ready
    if path.startswith(("/v1/tus", "/v1/media/upload")) or path.endswith("/confirm"):
        codes |= {"413", "415", "422"}
    if path.startswith("/v1/tus/"):
        codes |= {"404", "409", "410", "412", "423", "460"}
    elif path.startswith("/v1/tus"):
        codes |= {"412"}
    if path == "/v1/media":
        codes |= {"413", "415"} if method == "POST" else set()
    if path.startswith("/v1/media/import"):
        codes |= {"413", "415", "502"}
    if path == "/v1/generate/enhance":
        codes.add("502")  # the provider failed
    if path == UPLOAD_PATH:
        codes |= {"403", "409", "413"}
        codes.discard("503")
    return codes


def _document_bodies(path: str, method: str, operation: dict[str, Any]) -> None:
    """The byte-moving routes read their bodies themselves: say what they take."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    if path == UPLOAD_PATH:
        operation["requestBody"] = {
            "required": True,
            "description": (
                "The bytes, sent with the Content-Type the URL was issued for (the `headers` "
                "of the upload answer) or as `application/octet-stream`."
            ),
            "content": {"application/octet-stream": binary},
        }
        for name in ("key", "ws", "exp", "max", "ct", "kid", "sig"):
            operation.setdefault("parameters", []).append(
                {"name": name, "in": "query", "required": True, "schema": {"type": "string"}}
            )
    elif path == "/v1/media" and method == "POST":
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "kind": {
                                "type": "string",
                                "enum": ["image", "gif", "video", "audio", "document"],
                            },
                            "description": {"type": "string", "maxLength": 5000},
                            "tags": {"type": "string", "description": "comma-separated"},
                            "tenant_id": {"type": "string", "maxLength": 200},
                        },
                    }
                }
            },
        }
    elif path.startswith("/v1/tus"):
        _document_tus(path, method, operation)


def _document_tus(path: str, method: str, operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    parameters.append(_TUS_VERSION)
    number = {"type": "string", "pattern": "^[0-9]{1,19}$"}
    if method == "POST":
        parameters += [
            {"name": "Upload-Length", "in": "header", "required": True, "schema": number},
            {
                "name": "Upload-Metadata",
                "in": "header",
                "required": True,
                "description": "`filename <base64>`, optionally `kind`, `tags`, …",
                "schema": {"type": "string", "pattern": "^filename [A-Za-z0-9+/=]+"},
            },
        ]
    if method == "PATCH":
        parameters.append(
            {"name": "Upload-Offset", "in": "header", "required": True, "schema": number}
        )
    _document_tus_answers(method, operation)
    if method in ("POST", "PATCH"):
        operation["requestBody"] = {
            "required": method == "PATCH",
            "content": {
                "application/offset+octet-stream": {
                    "schema": {"type": "string", "format": "binary"}
                }
            },
        }


_TUS_ANSWER_HEADERS = {
    "POST": ("201", ["Location", "Upload-Offset", "Upload-Expires", "Tus-Resumable"]),
    "HEAD": ("200", ["Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Expires"]),
    "PATCH": ("204", ["Upload-Offset", "Upload-Expires", "Tus-Resumable"]),
    "DELETE": ("204", ["Tus-Resumable"]),
    "OPTIONS": ("204", ["Tus-Version", "Tus-Extension", "Tus-Max-Size"]),
}
_HEADER_SCHEMAS = {
    "Location": {"type": "string", "format": "uri"},
    "Upload-Offset": {"type": "string", "pattern": "^[0-9]+$"},
    "Upload-Length": {"type": "string", "pattern": "^[0-9]+$"},
}


def _document_tus_answers(method: str, operation: dict[str, Any]) -> None:
    """A tus answer is its headers (no body): name them, typed."""
    if method not in _TUS_ANSWER_HEADERS:
        return
    status, names = _TUS_ANSWER_HEADERS[method]
    responses = operation.setdefault("responses", {})
    for code in [c for c in responses if c.startswith("2") and c != status]:
        del responses[code]  # FastAPI's default 200, where tus answers otherwise
    responses[status] = {
        "description": "Done; the state of the upload is in the headers.",
        "headers": {
            name: {"schema": _HEADER_SCHEMAS.get(name, {"type": "string"})} for name in names
        },
    }
